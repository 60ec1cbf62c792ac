-- End to end against the real server and model, in a headless Neovim:
--   ENCLAVE_NVIM_PLUGIN=<plugin dir> ENCLAVE_TEST_FILE=<python file> ENCLAVE_TEST_OUT=<json> \
--   nvim --headless --clean -u NONE -c "luafile tests/e2e.lua"
-- Optional ENCLAVE_TEST_CMD: the server command as a JSON list.
local R = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:gsub('^@', '')) .. '/runner.lua')
local results, wait_for, keys = R.results, R.wait_for, R.keys

R.run(function()
  local enclave = require('enclave')
  local setup = { settings = { model = { size = '0.5b' } }, debounce_ms = 50 }
  local cmd_json = os.getenv('ENCLAVE_TEST_CMD')
  if cmd_json and cmd_json ~= '' then setup.cmd = vim.json.decode(cmd_json) end
  enclave.setup(setup)
  results.cmd = require('enclave.config').server_cmd(enclave.options)

  vim.cmd.edit(vim.fn.fnameescape((assert(R.file, 'ENCLAVE_TEST_FILE'))))
  local bufnr = vim.api.nvim_get_current_buf()
  local client = wait_for('attach', 20000, function() return enclave.client(bufnr) end)
  local commands = (client.server_capabilities.executeCommandProvider or {}).commands or {}
  results.server_commands = commands

  wait_for('model ready', 180000, function()
    local st = enclave.status(bufnr)
    if st and st.state == 'error' then error('server error: ' .. (st.message or ''), 0) end
    return st and st.state == 'ready'
  end)
  results.statusline = enclave.statusline()

  -- Ghost text: type the space after the `    return` line, as a user would.
  local row
  for i, l in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
    if l:match('^%s+return$') then row = row or i end
  end
  assert(row, 'no line `    return` in the test file')
  keys(row .. 'G$') -- as a user moves there, so CursorMoved fires
  wait_for('cursor moved', 5000, function() return vim.api.nvim_win_get_cursor(0)[1] == row end)
  -- The cursor settles there: the plugin sends enclave/didFocus and the server warms the prompt.
  local warm = wait_for('warm-up after focus', 60000, function()
    local res = client:request_sync('enclave/getStatus', {}, 5000, bufnr)
    for _, s in ipairs((res and res.result and res.result.recent) or {}) do
      if s.kind == 'warmup' then return s end
    end
  end)
  results.focus_warmup = warm
  keys('a ')
  wait_for('insert mode', 5000, function() return vim.api.nvim_get_mode().mode == 'i' end)
  wait_for('ghost text', 90000, function() return R.has_ghost(bufnr) end)
  local marks, text = R.ghost_text(bufnr)
  local shown = require('enclave.ghost').get(bufnr)
  results.ghost = { marks = marks, text = text, line_before = R.line(row), suggestion = shown.text }

  -- Accept with the default keymap (<Tab>).
  local before = R.line(row)
  keys('<Tab>')
  wait_for('accept', 5000, function() return R.line(row) ~= before end)
  results.accept = {
    line = R.line(row),
    cursor = vim.api.nvim_win_get_cursor(0),
    marks_after = (R.ghost_text(bufnr)),
    mode = vim.api.nvim_get_mode().mode,
  }
  keys('<Esc>')
  wait_for('normal mode', 5000, function() return vim.api.nvim_get_mode().mode == 'n' end)
  vim.cmd.write()

  -- :EnclaveExplain on the first function (visual line range) opens a Markdown float.
  if vim.tbl_contains(commands, 'enclave.lsp.explain') then
    vim.api.nvim_win_set_cursor(0, { 1, 0 })
    keys('Vjj:EnclaveExplain<CR>')
    local win = wait_for('explain window', 180000, function()
      for _, w in ipairs(vim.api.nvim_list_wins()) do
        if vim.api.nvim_win_get_config(w).relative ~= '' then return w end
      end
    end)
    local buf = vim.api.nvim_win_get_buf(win)
    results.explain = {
      filetype = vim.bo[buf].filetype,
      text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n'),
    }
    vim.api.nvim_win_close(win, true)
  else
    results.explain = { skipped = 'the server does not offer enclave.lsp.explain' }
  end

  -- :EnclaveReview fills vim.diagnostic through publishDiagnostics.
  if vim.tbl_contains(commands, 'enclave.lsp.review') then
    vim.api.nvim_set_current_buf(bufnr)
    local findings
    vim.api.nvim_create_autocmd('User', {
      pattern = 'EnclaveReviewDone',
      once = true,
      callback = function(args) findings = args.data.findings end,
    })
    vim.cmd('EnclaveReview')
    wait_for('review result', 420000, function() return findings ~= nil end)
    local function ours()
      return vim.tbl_filter(function(d) return d.source == 'enclave' end, vim.diagnostic.get(bufnr))
    end
    wait_for('review diagnostics', 10000, function() return #ours() >= findings end)
    results.review = {
      findings = findings,
      diagnostics = #ours(),
      messages = vim.tbl_map(function(d) return d.message end, ours()),
    }
  else
    results.review = { skipped = 'the server does not offer enclave.lsp.review' }
  end

  vim.cmd('checkhealth enclave')
  results.health = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
end)
