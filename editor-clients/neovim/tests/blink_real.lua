-- The real blink.cmp beside Enclave (tests/stub_server.py, no model); its checkout is
-- $ENCLAVE_BLINK_CMP, run with its Lua fuzzy matcher (no prebuilt binary). $ENCLAVE_CMP_MODE:
--   default: Enclave's default keys, and blink.cmp's default keymap preset (Tab: the
--            snippet's next placeholder, else fallback);
--   recipe:  :help enclave-blink, `keymaps = { accept = false }` and its Tab entry.
-- Each case presses Tab once on line 2 and records the line, the cursor and what is left
-- shown; the assertions are in tests/editors/test_neovim.py.
local R = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:gsub('^@', '')) .. '/runner.lua')
local results, wait_for = R.results, R.wait_for
local api = vim.api
local mode = assert(os.getenv('ENCLAVE_CMP_MODE'), 'ENCLAVE_CMP_MODE')
vim.opt.runtimepath:prepend(assert(os.getenv('ENCLAVE_BLINK_CMP'), 'ENCLAVE_BLINK_CMP'))

local press = R.tab_case

R.run(function()
  R.tab_baseline(press)

  local keymap = { preset = 'default' }
  if mode == 'recipe' then -- :help enclave-blink
    keymap['<Tab>'] = { function() return require('enclave').accept() end,
                        'snippet_forward', 'fallback' }
  end
  require('blink.cmp').setup({
    fuzzy = { implementation = 'lua' },
    keymap = keymap,
    sources = { default = { 'buffer' } },
  })
  R.beside_plugin(mode, press)
  -- A snippet's placeholders: Tab jumps to the next one.
  press('snippet', function()
    vim.snippet.expand('first(${1:one}, ${2:two})')
    wait_for('snippet', 2000, function() return R.line(2) == 'first(one, two)' end)
  end, function() return api.nvim_win_get_cursor(0)[2] >= #'first(one, ' end)
  local tab = vim.fn.maparg('<Tab>', 'i', false, true)
  results.tab_mapping = tab.desc or tab.rhs or ''
end)
