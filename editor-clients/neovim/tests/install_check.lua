-- Run in a Neovim where the plugin was installed (pack/*/start, :packadd, lazy.nvim or its
-- stand-in), with no ENCLAVE_NVIM_PLUGIN: where each part was found, then a buffer served by
-- tests/stub_server.py, a suggestion asked for and accepted with the default keys, :help and
-- :checkhealth. ENCLAVE_INSTALL_START=enable starts the server with vim.lsp.enable('enclave')
-- (and settings given through vim.lsp.config); otherwise the init already called setup().
local R = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:gsub('^@', '')) .. '/runner.lua')
local results, wait_for, keys = R.results, R.wait_for, R.keys
local api = vim.api

R.run(function()
  vim.o.showmode = false
  local function source_of(mod)
    local info = debug.getinfo(require(mod).setup or require(mod).config, 'S')
    return vim.fn.resolve((info.source:gsub('^@', '')))
  end
  results.found = {
    command = vim.fn.exists(':Enclave') == 2,
    plug = vim.fn.maparg('<Plug>(enclave-accept-word)', 'i') ~= '',
    lsp_files = vim.tbl_map(vim.fn.resolve, api.nvim_get_runtime_file('lsp/enclave.lua', true)),
    module = source_of('enclave'),
    doc = vim.tbl_map(vim.fn.resolve, api.nvim_get_runtime_file('doc/enclave.txt', true)),
    setup_called = require('enclave').options ~= nil,
  }
  if os.getenv('ENCLAVE_INSTALL_START') == 'enable' then
    vim.lsp.config('enclave', {
      cmd = vim.json.decode(assert(os.getenv('ENCLAVE_TEST_CMD'))),
      init_options = { model = { path = '/models/mine.gguf' } },
      -- User-only settings in `settings` (as a project's .neoconf.json could put there), in
      -- the forms the server reads: nested, dotted, under `enclave`, any case.
      settings = {
        backend = { url = 'http://10.0.0.9:1' },
        Log = { FILE = '/tmp/x.log' },
        enclave = { ['backend.allowHosts'] = { 'evil.example' }, completion = { enabled = true } },
      },
    })
    local messages = R.capture_notify()
    results.messages = messages
    vim.lsp.enable('enclave')
  end

  vim.cmd.edit(vim.fn.fnameescape((assert(R.file, 'ENCLAVE_TEST_FILE'))))
  local buf = api.nvim_get_current_buf()
  local client = wait_for('attach', 20000, function() return require('enclave').client(buf) end)
  results.client = { name = client.name, settings = client.settings,
    root_dir = client.root_dir, filetypes = client.config.filetypes }
  api.nvim_buf_set_lines(buf, 0, -1, false, { 'x = 1', '' })
  api.nvim_win_set_cursor(0, { 2, 0 })
  keys('A<M-]>')
  wait_for('ghost', 10000, function() return R.has_ghost(buf) end)
  keys('<Tab>')
  wait_for('accepted', 5000, function() return R.line(2) ~= '' end)
  results.accepted = R.line(2)
  keys('<Esc>')
  wait_for('normal', 5000, function() return api.nvim_get_mode().mode == 'n' end)

  vim.cmd('silent! helptags ALL')
  results.help = pcall(vim.cmd.help, 'enclave-toggle')
  results.help_file = results.help and vim.fn.resolve(api.nvim_buf_get_name(0)) or nil
  vim.cmd('checkhealth enclave')
  results.health = table.concat(api.nvim_buf_get_lines(0, 0, -1, false), '\n')
end)
