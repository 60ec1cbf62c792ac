--- Reports accepted suggestions to the server for its local statistics: runs the item's
--- `enclave.lsp.accepted` command through workspace/executeCommand, with `acceptedChars`, the
--- characters (Unicode code points, as the server counts) taken from the item so far. Only that
--- command is run, and straight as a request: no client-side command handler sees it. An item
--- without it (stats.enabled off) reports nothing.
local M = {}

M.COMMAND = 'enclave.lsp.accepted'

local has_011 = vim.fn.has('nvim-0.11') == 1

--- Code points of UTF-8 `s` (as Python's len()): the bytes that start a character. Plain Lua:
--- strchars() fails on a NUL (a string with one reaches Vimscript as a Blob).
function M.chars(s)
  return select(2, s:gsub('[^\128-\191]', ''))
end

--- The tracking record of `item` (its text `text`, from `client`): { client, argument, chars,
--- sent }, or nil when the item carries no accepted command.
function M.source(item, text, client)
  local cmd = type(item) == 'table' and item.command or nil
  if type(cmd) ~= 'table' or cmd.command ~= M.COMMAND then return nil end
  local args = cmd.arguments
  if type(args) ~= 'table' or #args ~= 1 or type(args[1]) ~= 'table' then return nil end
  return { client = client, argument = args[1], chars = M.chars(text), sent = 0 }
end

--- Report that the first `total` characters of the item of `src` are accepted (a running
--- total: never sent twice, never less than before, never beyond the item's length).
function M.report(src, total, bufnr)
  if not src or not src.client then return end
  total = math.min(total, src.chars)
  if total <= src.sent or src.client:is_stopped() then return end
  src.sent = total
  local arg = vim.deepcopy(src.argument)
  arg.acceptedChars = total
  local params = { command = M.COMMAND, arguments = { arg } }
  -- The answer is the total the server counted; an expired id is an error to ignore.
  local function ignore() end
  if has_011 then
    src.client:request('workspace/executeCommand', params, ignore, bufnr)
  else
    src.client.request('workspace/executeCommand', params, ignore, bufnr)
  end
end

return M
