-- The commands against tests/stub_server.py (no model, seconds): :EnclaveExplain opens a
-- Markdown float, :EnclaveReview fills vim.diagnostic, :EnclaveRefactor offers only Enclave code
-- actions and applies the resolved one, :EnclaveRefactor {instruction} applies the server's
-- edit, :EnclaveStatus reports. Env as in e2e.lua; ENCLAVE_TEST_CMD starts the stub.
local R = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:gsub('^@', '')) .. '/runner.lua')
local results, wait_for, keys = R.results, R.wait_for, R.keys

R.run(function()
  local enclave = require('enclave')
  enclave.setup({ cmd = vim.json.decode(assert(os.getenv('ENCLAVE_TEST_CMD'))) })
  local messages = R.capture_notify()
  vim.cmd.edit(vim.fn.fnameescape((assert(R.file, 'ENCLAVE_TEST_FILE'))))
  local bufnr = vim.api.nvim_get_current_buf()
  wait_for('attach', 20000, function() return enclave.client(bufnr) end)
  wait_for('status', 10000, function()
    local st = enclave.status(bufnr)
    return st and st.state == 'ready'
  end)

  -- :EnclaveExplain from a visual line selection of lines 1-2.
  keys('ggVj:EnclaveExplain<CR>')
  local win = wait_for('explain window', 10000, function()
    for _, w in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(w).relative ~= '' then return w end
    end
  end)
  local buf = vim.api.nvim_win_get_buf(win)
  results.explain = {
    filetype = vim.bo[buf].filetype,
    text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n'),
    focused = vim.api.nvim_get_current_win() == win,
  }
  keys('q')
  wait_for('explain closed', 5000, function() return not vim.api.nvim_win_is_valid(win) end)

  -- :EnclaveReview
  local findings
  vim.api.nvim_create_autocmd('User', {
    pattern = 'EnclaveReviewDone',
    once = true,
    callback = function(args) findings = args.data.findings end,
  })
  vim.cmd('EnclaveReview')
  wait_for('review', 10000, function() return findings ~= nil end)
  local diags = vim.diagnostic.get(bufnr)
  results.review = {
    findings = findings,
    diagnostics = vim.tbl_map(function(d) return { d.lnum, d.source, d.message } end, diags),
  }

  -- :EnclaveRefactor: only Enclave's actions are offered; the chosen one is resolved, applied.
  local offered
  local orig_select = vim.ui.select
  vim.ui.select = function(items, opts, on_choice)
    offered = vim.tbl_map(function(item) return opts.format_item(item) end, items)
    on_choice(items[1], 1)
  end
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  vim.cmd('EnclaveRefactor')
  wait_for('code action applied', 10000, function() return R.line(1) == '# simplified' end)
  vim.ui.select = orig_select
  results.refactor = { offered = offered, first_line = R.line(1) }

  -- :EnclaveRefactor {instruction} on a range: enclave.lsp.rewrite, applied by workspace/applyEdit.
  vim.cmd('2,2EnclaveRefactor make it shorter')
  wait_for('rewrite applied', 10000, function() return R.line(2) == '# rewritten: make it shorter' end)
  results.rewrite = { line = R.line(2) }

  -- :EnclaveStatus
  vim.cmd('EnclaveStatus')
  wait_for('status message', 10000, function()
    for _, m in ipairs(messages) do
      if m:find('state: ready', 1, true) then return true end
    end
  end)
  results.messages = messages
  results.statusline = enclave.statusline()
end)
