-- The real blink.cmp beside Enclave (tests/stub_server.py, no model); its checkout is
-- $ENCLAVE_BLINK_CMP, run with its Lua fuzzy matcher (no prebuilt binary). $ENCLAVE_CMP_MODE:
--   default: Enclave's default keys, and blink.cmp's default keymap preset (Tab: the
--            snippet's next placeholder, else fallback);
--   recipe:  :help enclave-blink, `keymaps = { accept = false }` and its Tab entry.
-- Each case presses Tab once on line 2 and records the line, the cursor and what is left
-- shown; the assertions are in tests/editors/test_neovim.py.
local R = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:gsub('^@', '')) .. '/runner.lua')
local results, wait_for, keys = R.results, R.wait_for, R.keys
local api = vim.api
local mode = assert(os.getenv('ENCLAVE_CMP_MODE'), 'ENCLAVE_CMP_MODE')
vim.opt.runtimepath:prepend(assert(os.getenv('ENCLAVE_BLINK_CMP'), 'ENCLAVE_BLINK_CMP'))

local function record(name)
  results.cases[name] = {
    line = R.line(2),
    col = api.nvim_win_get_cursor(0)[2],
    ghost_left = R.has_ghost(0),
  }
end

--- Press Tab on line 2 after `prepare` (in insert mode) and record it once `done` holds.
local function press(name, prepare, done)
  R.insert_on_empty_line(2)
  prepare()
  keys('<Tab>')
  pcall(wait_for, 'tab ' .. name, 2000, done or function() return R.line(2) ~= '' end)
  record(name)
  R.normal()
end

R.run(function()
  results.cases = {}
  vim.cmd('filetype plugin on')
  vim.cmd('enew | setlocal buftype=nofile | setfiletype python')
  api.nvim_buf_set_lines(0, 0, -1, false, { 'x = 1', '' })
  press('baseline', function() end)

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
  local enclave = require('enclave')
  enclave.setup({
    cmd = vim.json.decode(assert(os.getenv('ENCLAVE_TEST_CMD'))),
    auto_trigger = false, -- suggestions only when asked (<M-]>)
    keymaps = mode == 'recipe' and { accept = false } or nil,
  })
  vim.cmd.edit(vim.fn.fnameescape(vim.fn.getcwd() .. '/case.py'))
  local buf = api.nvim_get_current_buf()
  api.nvim_buf_set_lines(buf, 0, -1, false, { 'x = 1', '' })
  wait_for('attach', 20000, function() return enclave.client(buf) end)

  press('nothing', function() end)
  press('suggestion', function()
    keys('<M-]>')
    wait_for('ghost', 10000, function() return R.has_ghost(0) end)
  end, function() return R.line(2) == 'SUGGESTED' end)
  -- A snippet's placeholders: Tab jumps to the next one.
  press('snippet', function()
    vim.snippet.expand('first(${1:one}, ${2:two})')
    wait_for('snippet', 2000, function() return R.line(2) == 'first(one, two)' end)
  end, function() return api.nvim_win_get_cursor(0)[2] >= #'first(one, ' end)
  local tab = vim.fn.maparg('<Tab>', 'i', false, true)
  results.tab_mapping = tab.desc or tab.rhs or ''
end)
