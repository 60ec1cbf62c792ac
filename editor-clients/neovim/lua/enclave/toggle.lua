--- Completions on or off: globally (vim.g.enclave_enabled), per buffer (vim.b.enclave_enabled)
--- and per filetype (vim.g.enclave_filetypes = { markdown = false }). Off globally wins; else
--- a buffer's own value wins over its filetype's. Only completions stop (no request, no ghost
--- text, keys fall back); explain, review and refactor keep working.
local M = {}

local api = vim.api

local function filetypes()
  local t = vim.g.enclave_filetypes
  return type(t) == 'table' and t or {}
end

local function resolve(bufnr)
  return (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
end

--- Whether completions are on in `bufnr`, and which switch decided: 'global', 'buffer',
--- 'filetype' or 'default'.
function M.state(bufnr)
  bufnr = resolve(bufnr)
  if vim.g.enclave_enabled == false then return false, 'global' end
  if not api.nvim_buf_is_valid(bufnr) then return true, 'default' end
  local b = vim.b[bufnr].enclave_enabled
  if b ~= nil then return b ~= false, 'buffer' end
  if filetypes()[vim.bo[bufnr].filetype] == false then return false, 'filetype' end
  return true, 'default'
end

function M.enabled(bufnr)
  return (M.state(bufnr))
end

--- Apply the switches to every buffer with an Enclave client.
function M.apply()
  local enclave = require('enclave')
  for _, client in ipairs(vim.lsp.get_clients({ name = 'enclave' })) do
    for bufnr in pairs(client.attached_buffers or {}) do
      local on = M.enabled(bufnr)
      if enclave.native_inline() then
        vim.lsp.inline_completion.enable(on, { bufnr = bufnr })
      elseif not on then
        require('enclave.ghost').dismiss(bufnr)
      end
    end
  end
  vim.cmd('redrawstatus')
  api.nvim_exec_autocmds('User', { pattern = 'EnclaveToggle', modeline = false })
end

--- Set a switch. `scope`: 'global', 'buffer' or 'filetype'; `value`: true, false, or nil to
--- toggle what is in effect. Returns the new state of `bufnr`.
function M.set(scope, value, bufnr)
  bufnr = resolve(bufnr)
  if scope == 'global' then
    if value == nil then value = vim.g.enclave_enabled == false end
    vim.g.enclave_enabled = value
  elseif scope == 'buffer' then
    if value == nil then value = not M.enabled(bufnr) end
    vim.b[bufnr].enclave_enabled = value
  elseif scope == 'filetype' then
    local ft = vim.bo[bufnr].filetype
    if ft == '' then error('enclave: this buffer has no filetype', 0) end
    local t = filetypes()
    if value == nil then value = t[ft] == false end
    t[ft] = value
    vim.g.enclave_filetypes = t
  else
    error(('enclave: unknown scope %q (global, buffer, filetype)'):format(tostring(scope)), 0)
  end
  M.apply()
  return M.enabled(bufnr)
end

--- One line describing the switches for `bufnr`.
function M.describe(bufnr)
  bufnr = resolve(bufnr)
  local on, why = M.state(bufnr)
  local where = ({
    global = 'globally',
    buffer = 'in this buffer',
    filetype = ('for filetype %s'):format(vim.bo[bufnr].filetype),
    default = 'by default',
  })[why]
  return ('completions %s %s'):format(on and 'on' or 'off', where)
end

return M
