-- The reporting rule of lua/enclave/accepted.lua, without a server:
--   nvim --clean -l tests/accepted_spec.lua IN.json OUT.json
-- IN: { runs = { { text, totals, stop_at } }, items = { item... }, texts = { string... } }.
-- OUT: { sent = { { acceptedChars... } per run }, args = { argument of the first report per run },
-- sources = { whether each item gets a record }, chars = { strchars of each text } }.
local here = debug.getinfo(1, 'S').source:gsub('^@', '')
vim.opt.runtimepath:prepend(vim.fn.fnamemodify(here, ':p:h:h'))
local accepted = require('enclave.accepted')

local function read(path)
  local f = assert(io.open(path, 'rb'))
  local data = f:read('*a')
  f:close()
  return vim.json.decode(data)
end

local input = read(assert(_G.arg[1], 'IN.json'))
local out = { sent = {}, args = {}, sources = {}, chars = {} }

for i, run in ipairs(input.runs) do
  local sent, stopped = {}, false
  local client = {
    request = function(_, method, params)
      assert(method == 'workspace/executeCommand' and params.command == accepted.COMMAND)
      sent[#sent + 1] = params.arguments[1].acceptedChars
      out.args[i] = out.args[i] or params.arguments[1]
      return true, #sent
    end,
    is_stopped = function() return stopped end,
  }
  local item = { command = { command = accepted.COMMAND, arguments = { { id = 'x', uri = 'u' } } } }
  local src = assert(accepted.source(item, run.text, client))
  for k, total in ipairs(run.totals) do
    if k == run.stop_at then stopped = true end
    accepted.report(src, total, 1)
  end
  -- The item's own argument is never changed by a report.
  assert(item.command.arguments[1].acceptedChars == nil)
  out.sent[i] = sent
  -- null for a run that sent nothing: a sparse table cannot be encoded as an array
  out.args[i] = out.args[i] or vim.NIL
end
for i, item in ipairs(input.items) do
  out.sources[i] = accepted.source(item, 'abc', {}) ~= nil
end
for i, text in ipairs(input.texts) do
  out.chars[i] = accepted.chars(text)
end

local f = assert(io.open(assert(_G.arg[2], 'OUT.json'), 'wb'))
f:write(vim.json.encode(out))
f:close()
