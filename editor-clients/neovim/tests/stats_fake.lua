-- Acceptance reports (local statistics) against the server with its scripted fake engine:
-- accept all; type ahead, accept word, word, line, then all; :checkhealth with the figures;
-- stats.enabled off (items without the command: nothing sent; :checkhealth says off).
-- Every workspace/executeCommand the plugin sends is logged with the server's answer.
-- Env as in ghost_fake.lua.
local R = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:gsub('^@', '')) .. '/runner.lua')
local results, wait_for, keys = R.results, R.wait_for, R.keys
local api = vim.api

results.sent, results.answers = {}, {}

--- Log the plugin's executeCommand requests (with the server's answer) and whether each
--- inline completion item carried a command.
local function spy(client)
  local request = client.request
  client.request = function(self, method, params, handler, bufnr)
    if method == 'workspace/executeCommand' then
      local entry = { params = vim.deepcopy(params) }
      results.sent[#results.sent + 1] = entry
      local inner = handler
      handler = function(err, result, ...)
        entry.answer, entry.error = result, err and err.message
        if inner then return inner(err, result, ...) end
      end
    elseif method == 'textDocument/inlineCompletion' then
      local inner = handler
      handler = function(err, result, ...)
        for _, item in ipairs(result and (result.items or result) or {}) do
          results.answers[#results.answers + 1] = { command = item.command or vim.NIL }
        end
        return inner(err, result, ...)
      end
    end
    return request(self, method, params, handler, bufnr)
  end
end

local function status(client)
  local answer = client:request_sync('enclave/getStatus', {}, 10000, 0)
  return assert(answer and answer.result, 'getStatus').stats
end

local function health()
  vim.cmd('checkhealth enclave')
  local text = table.concat(api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  vim.cmd('bwipeout')
  return text
end

R.run(function()
  local enclave = require('enclave')
  local model_path = assert(os.getenv('ENCLAVE_TEST_MODEL_PATH'))
  local setup = {
    settings = { model = { path = model_path } },
    debounce_ms = 600000, -- no automatic request: each suggestion below is asked for (<M-]>)
  }
  local cmd_json = os.getenv('ENCLAVE_TEST_CMD')
  if cmd_json and cmd_json ~= '' then setup.cmd = vim.json.decode(cmd_json) end
  enclave.setup(setup)
  vim.cmd.edit(vim.fn.fnameescape((assert(R.file, 'ENCLAVE_TEST_FILE'))))
  local bufnr = api.nvim_get_current_buf()
  local original = api.nvim_buf_get_lines(bufnr, 0, -1, false)
  local client = wait_for('attach', 20000, function() return enclave.client(bufnr) end)
  spy(client)
  wait_for('ready', 30000, function()
    local st = enclave.status(bufnr)
    return st and st.state == 'ready'
  end)
  local row = 2 -- "    " in an empty function body

  --- The buffer as it was, insert mode at the end of `row`, a suggestion shown.
  local function suggest(label)
    api.nvim_buf_set_lines(bufnr, 0, -1, false, original)
    api.nvim_win_set_cursor(0, { row, 0 })
    keys('A')
    wait_for(label .. ': insert mode', 5000, function() return api.nvim_get_mode().mode == 'i' end)
    keys('<M-]>')
    wait_for(label .. ': ghost', 20000, function() return R.has_ghost(bufnr) end)
    local _, text = R.ghost_text(bufnr)
    return text
  end

  local function accept_all(label)
    keys('<Tab>')
    wait_for(label .. ': accepted', 5000, function() return not R.has_ghost(bufnr) end)
    R.sleep(300) -- the report's answer
    R.normal()
  end

  -- Accept all.
  results.text = suggest('all')
  accept_all('all')
  results.after_all = { sent = #results.sent, stats = status(client) }

  -- Type the first character, accept word, word, line, then all.
  local text = suggest('partial')
  keys(text:sub(1, 1))
  wait_for('typed ahead', 5000, function() return R.line(row) == '    ' .. text:sub(1, 1) end)
  results.lines = {}
  for _, key in ipairs({ '<M-Right>', '<M-Right>', '<M-C-Right>' }) do
    local before = R.line(row)
    keys(key)
    wait_for('piece ' .. key, 5000, function() return R.line(row) ~= before end)
    results.lines[#results.lines + 1] = R.line(row)
  end
  accept_all('partial')
  results.after_partial = { sent = #results.sent, stats = status(client) }
  results.health_on = health()
  assert(api.nvim_get_current_buf() == bufnr, 'back in the file after :checkhealth')

  -- stats.enabled off: the items carry no command; accepting sends nothing.
  enclave.set_settings({ model = { path = model_path }, stats = { enabled = false } })
  wait_for('stats off', 10000, function() return status(client).enabled == false end)
  local answers = #results.answers
  suggest('off')
  accept_all('off')
  results.off = { sent = #results.sent, answers = vim.list_slice(results.answers, answers + 1) }
  results.health_off = health()
end)
