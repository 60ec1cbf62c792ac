--- The keys through vim.lsp.inline_completion (Neovim 0.12+). Not run here: the Neovim of the
--- tests is 0.11.4, where the plugin's own ghost text (ghost.lua) is what runs.
local M = {}

local api = vim.api
local accepted = require('enclave.accepted')

--- The accepted-command record of each item partly accepted (a full accept runs the item's
--- command in Neovim itself, as the server sent it: all of the item).
local sources = setmetatable({}, { __mode = 'k' })

local function ic()
  return vim.lsp.inline_completion
end

function M.visible(bufnr)
  -- The native API has no query; its extmarks are the only trace of a shown item.
  local ns = api.nvim_get_namespaces()['nvim.lsp.inline_completion']
  if not ns then return false end
  bufnr = bufnr == 0 and api.nvim_get_current_buf() or bufnr
  return #api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { limit = 1 }) > 0
end

--- Insert part of `item` (kind 'word' or 'line') at the cursor, as the ghost path does.
local function insert_piece(item, kind)
  local text = item.insert_text
  if type(text) ~= 'string' then text = text.value end -- a snippet: its raw text
  local full = text
  local bufnr = api.nvim_get_current_buf()
  local row, col = unpack(api.nvim_win_get_cursor(0))
  row = row - 1
  if item.range then
    -- The part of the item before the cursor is what is typed there.
    local s = item.range.start
    if s.row == row and s.col <= col then
      local line = api.nvim_get_current_line()
      local typed = line:sub(s.col + 1, col)
      if text:sub(1, #typed) == typed then text = text:sub(#typed + 1) end
    end
  end
  local part = require('enclave.ghost').piece(text, kind)
  local lines = vim.split(part, '\n', { plain = true })
  api.nvim_buf_set_text(bufnr, row, col, row, col, lines)
  api.nvim_win_set_cursor(0, { row + #lines, (#lines == 1 and col or 0) + #lines[#lines] })
  if sources[item] == nil then
    local client = item.client_id and vim.lsp.get_client_by_id(item.client_id)
    sources[item] = client and accepted.source(item, full, client) or false
  end
  local src = sources[item]
  -- Everything of the item up to the end of the piece is in the buffer now.
  if src then accepted.report(src, src.chars - accepted.chars(text:sub(#part + 1)), bufnr) end
end

--- Accept all of the shown item, or its next word or line.
function M.accept(bufnr, kind)
  if kind == 'all' then return ic().get({ bufnr = bufnr }) end
  return ic().get({ bufnr = bufnr, on_accept = function(item) insert_piece(item, kind) end })
end

function M.cycle(bufnr, step)
  local select = ic().select or ic().jump
  if not M.visible(bufnr) then return false end
  select({ bufnr = bufnr, count = step })
  return true
end

--- No dismiss in the native API: leaving insert mode or moving hides the item.
function M.dismiss(_)
  return false
end

return M
