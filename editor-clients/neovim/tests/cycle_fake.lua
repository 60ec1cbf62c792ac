-- Cycling through the real server's alternatives (scripted fake engine): <M-]> with nothing
-- shown asks (an invoked request) and shows the first item; <M-]> / <M-[> then go through
-- the items the server returned; <Tab> accepts the one shown, and its own id is reported.
-- Env as in ghost_fake.lua.
local R = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:gsub('^@', '')) .. '/runner.lua')
local results, wait_for, keys = R.results, R.wait_for, R.keys
local api = vim.api

results.sent, results.items = {}, {}

local function spy(client)
  local request = client.request
  client.request = function(self, method, params, handler, bufnr)
    if method == 'workspace/executeCommand' then
      results.sent[#results.sent + 1] = vim.deepcopy(params)
    elseif method == 'textDocument/inlineCompletion' then
      local kind = params.context and params.context.triggerKind
      local inner = handler
      handler = function(err, result, ...)
        local texts = {}
        for _, item in ipairs(result and (result.items or result) or {}) do
          texts[#texts + 1] = { text = item.insertText, id = item.command.arguments[1].id }
        end
        results.items[#results.items + 1] = { kind = kind, items = texts }
        return inner(err, result, ...)
      end
    end
    return request(self, method, params, handler, bufnr)
  end
end

R.run(function()
  local enclave = require('enclave')
  local setup = {
    settings = { model = { path = assert(os.getenv('ENCLAVE_TEST_MODEL_PATH')) } },
    debounce_ms = 600000, -- no automatic request: the first one is asked for with <M-]>
  }
  local cmd_json = os.getenv('ENCLAVE_TEST_CMD')
  if cmd_json and cmd_json ~= '' then setup.cmd = vim.json.decode(cmd_json) end
  enclave.setup(setup)
  vim.cmd.edit(vim.fn.fnameescape((assert(R.file, 'ENCLAVE_TEST_FILE'))))
  local bufnr = api.nvim_get_current_buf()
  local client = wait_for('attach', 20000, function() return enclave.client(bufnr) end)
  spy(client)
  wait_for('ready', 30000, function()
    local st = enclave.status(bufnr)
    return st and st.state == 'ready'
  end)
  api.nvim_win_set_cursor(0, { 2, 0 })
  keys('A')
  wait_for('insert mode', 5000, function() return api.nvim_get_mode().mode == 'i' end)
  results.seen = {}
  local function shown() return select(2, R.ghost_text(bufnr)) end
  keys('<M-]>')
  wait_for('ghost', 20000, function() return R.has_ghost(bufnr) end)
  results.seen[1] = shown()
  for i, key in ipairs({ '<M-]>', '<M-]>', '<M-]>', '<M-[>', '<M-[>' }) do
    local before = shown()
    keys(key)
    wait_for('cycle ' .. i, 5000, function() return shown() ~= before end)
    results.seen[#results.seen + 1] = shown()
  end
  keys('<Tab>')
  wait_for('accepted', 5000, function() return not R.has_ghost(bufnr) end)
  R.sleep(300) -- the report
  results.line = R.line(2)
  R.normal()
end)
