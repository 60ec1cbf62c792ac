--- enclave/didFocus: tell the server where the cursor settles, so it can evaluate the prompt
--- there before the first keystroke (LSP itself says nothing about the cursor).
local M = {}

local api = vim.api
local uv = vim.uv or vim.loop
local has_011 = vim.fn.has('nvim-0.11') == 1

M.METHOD = 'enclave/didFocus'
M.debounce_ms = 300

local timer = nil
local last = ''

local function send(bufnr)
  if not api.nvim_buf_is_valid(bufnr) or api.nvim_get_current_buf() ~= bufnr then return end
  -- Completions off here: no warm-up for them either.
  if not require('enclave.toggle').enabled(bufnr) then return end
  local client = vim.lsp.get_clients({ bufnr = bufnr, name = 'enclave' })[1]
  if not client then return end
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  -- Typing moves the cursor on every key: one focus per line is enough.
  local key = ('%d:%s:%d'):format(client.id, params.textDocument.uri, params.position.line)
  if key == last then return end
  last = key
  if has_011 then
    client:notify(M.METHOD, params)
  else
    client.notify(M.METHOD, params)
  end
end

--- Send a focus for `bufnr` once the cursor has been still for debounce_ms.
function M.moved(bufnr)
  timer = timer or uv.new_timer()
  timer:stop()
  timer:start(M.debounce_ms, 0, vim.schedule_wrap(function() send(bufnr) end))
end

--- Forget the last focus (a new server knows no cursor yet).
function M.reset()
  last = ''
end

function M.attach(bufnr)
  local group = api.nvim_create_augroup('enclave_focus_' .. bufnr, { clear = true })
  api.nvim_create_autocmd({ 'BufEnter', 'CursorMoved', 'InsertEnter' }, {
    group = group,
    buffer = bufnr,
    callback = function() M.moved(bufnr) end,
  })
  M.moved(bufnr)
end

return M
