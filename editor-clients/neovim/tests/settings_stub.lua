-- set_settings() against tests/stub_server.py (no model, seconds): a change of an ordinary
-- setting goes to the running server without the user-only ones; a change of a user-only
-- setting restarts the server with it in initializationOptions. The stub records what it gets
-- in $ENCLAVE_STUB_LOG; the assertions are in tests/editors/test_neovim.py.
local R = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:gsub('^@', '')) .. '/runner.lua')
local results, wait_for = R.results, R.wait_for

R.run(function()
  local enclave = require('enclave')
  local first = {
    model = { size = '0.5b', path = '/models/mine.gguf' },
    backend = { kind = 'llama-server', url = 'http://10.0.0.1:8080' },
    ['log.file'] = '/tmp/enclave-mine.log',
  }
  enclave.setup({ cmd = vim.json.decode(assert(os.getenv('ENCLAVE_TEST_CMD'))), settings = first })
  vim.cmd.edit(vim.fn.fnameescape((assert(R.file, 'ENCLAVE_TEST_FILE'))))
  local bufnr = vim.api.nvim_get_current_buf()
  local client = wait_for('attach', 20000, function() return enclave.client(bufnr) end)
  results.first_client = client.id
  results.first_settings = client.settings

  -- An ordinary setting: sent to the running server.
  enclave.set_settings(vim.tbl_deep_extend('force', first, { completion = { enabled = false } }))
  R.sleep(500)
  results.same_client = enclave.client(bufnr) and enclave.client(bufnr).id == client.id

  -- A user-only setting, written dotted: the server restarts with it.
  local second = vim.tbl_deep_extend('force', first, { completion = { enabled = false } })
  second['backend.url'] = 'http://10.0.0.2:8080'
  second.backend.url = nil
  enclave.set_settings(second)
  local again = wait_for('a new client', 20000, function()
    local c = enclave.client(bufnr)
    return c and c.id ~= client.id and c.initialized and c
  end)
  results.second_client = again.id
  results.second_settings = again.settings
  R.sleep(500)
end)
