--- What the keys do: accept (all, a word, a line), next / previous, dismiss. Each returns true
--- when it did something, false when there was nothing to do (so a key can fall back). On
--- Neovim with vim.lsp.inline_completion (0.12+) they use it; else the plugin's ghost text.
local M = {}

local api = vim.api

local function native()
  local enclave = require('enclave')
  return enclave.native_inline() and require('enclave.native') or nil
end

local function ghost()
  return require('enclave.ghost')
end

local function enabled()
  return require('enclave.toggle').enabled(api.nvim_get_current_buf())
end

--- Whether a suggestion is shown in the current buffer.
function M.visible()
  local n = native()
  if n then return n.visible(0) end
  return ghost().visible(0)
end

function M.accept()
  local n = native()
  if n then return n.accept(0, 'all') end
  return ghost().accept(0)
end

function M.accept_word()
  local n = native()
  if n then return n.accept(0, 'word') end
  return ghost().accept_word(0)
end

function M.accept_line()
  local n = native()
  if n then return n.accept(0, 'line') end
  return ghost().accept_line(0)
end

function M.next()
  if not enabled() then return false end
  local n = native()
  if n then return n.cycle(0, 1) end
  return ghost().next(0)
end

function M.prev()
  if not enabled() then return false end
  local n = native()
  if n then return n.cycle(0, -1) end
  return ghost().prev(0)
end

function M.dismiss()
  local n = native()
  if n then return n.dismiss(0) end
  return ghost().dismiss(0)
end

return M
