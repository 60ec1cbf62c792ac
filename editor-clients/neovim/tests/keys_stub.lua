-- The default keys do not break other plugins' mappings (tests/stub_server.py, no model): with
-- no suggestion shown, each key runs what it did before Enclave mapped it, whatever kind of
-- mapping that was (buffer-local or global; Lua callback, Lua expr, Vimscript expr with <SID>,
-- a remapping <Plug> chain as LuaSnip's, a plain rhs), or the key itself; with a suggestion,
-- Tab accepts and nothing else runs. Each case gets its own buffer; what the line holds after
-- the key press is recorded, the assertions are in tests/editors/test_neovim.py.
local R = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:gsub('^@', '')) .. '/runner.lua')
local results, wait_for, keys = R.results, R.wait_for, R.keys
local api = vim.api

-- Global mappings a user or another plugin made before Enclave loaded.
local globals = {}
function globals.callback()
  vim.keymap.set('i', '<Tab>', function() api.nvim_put({ '<G-CB>' }, 'c', false, true) end)
end
function globals.lua_expr()
  vim.keymap.set('i', '<Tab>', function() return '<G-EXPR><Left><Right>' end, { expr = true })
end
function globals.plug_chain() -- LuaSnip's recommended Vimscript mapping, remapping to a <Plug>
  vim.cmd([[inoremap <Plug>(test-snip) <lt>SNIP>]])
  vim.cmd([[imap <silent><expr> <Tab> v:true ? '<Plug>(test-snip)' : '<Tab>']])
end
function globals.sid_expr() -- a script-local function: only its script can call it
  local file = vim.fn.tempname() .. '.vim'
  vim.fn.writefile({
    'function! s:Tab() abort',
    '  return "<SID-EXPR>"',
    'endfunction',
    'inoremap <expr> <Tab> <SID>Tab()',
  }, file)
  vim.cmd.source(file)
end
function globals.none()
  pcall(vim.keymap.del, 'i', '<Tab>')
end

-- Buffer-local mappings (nvim-cmp and blink.cmp map buffer-locally), made before attach.
local locals = {}
function locals.callback(buf)
  vim.keymap.set('i', '<Tab>', function() api.nvim_put({ '<B-CB>' }, 'c', false, true) end, { buffer = buf })
end
function locals.lua_expr(buf)
  vim.keymap.set('i', '<Tab>', function() return '<B-EXPR>' end, { buffer = buf, expr = true })
end
function locals.rhs(buf)
  vim.keymap.set('i', '<Tab>', '<lt>B-RHS>', { buffer = buf })
end

local case_local = nil
api.nvim_create_autocmd('FileType', {
  pattern = 'python',
  callback = function(args)
    if case_local then locals[case_local](args.buf) end
  end,
})

local n = 0
local function open_case(local_kind)
  n = n + 1
  case_local = local_kind
  vim.cmd.edit(vim.fn.fnameescape(vim.fn.getcwd() .. ('/case%d.py'):format(n)))
  case_local = nil
  local buf = api.nvim_get_current_buf()
  api.nvim_buf_set_lines(buf, 0, -1, false, { 'x = 1', '' })
  wait_for('attach ' .. n, 20000, function() return require('enclave').client(buf) end)
  wait_for('keys mapped ' .. n, 5000, function()
    return vim.fn.maparg('<Tab>', 'i', false, true).desc == 'Enclave: accept the suggestion'
  end)
  return buf
end

local insert_at_end, leave = function() R.insert_on_empty_line(2) end, R.normal

--- Press `key` on an empty line 2 and record the line once it changed (or after 1.5 s).
local function press(name, key, with_ghost)
  insert_at_end()
  if with_ghost then
    keys('<M-]>')
    wait_for('ghost ' .. name, 10000, function() return R.has_ghost(0) end)
  end
  keys(key)
  local ok = pcall(wait_for, 'press ' .. name, 1500, function() return R.line(2) ~= '' end)
  results.cases[name] = { line = R.line(2), changed = ok, ghost_left = R.has_ghost(0) }
  leave()
end

R.run(function()
  results.cases = {}
  vim.cmd('filetype plugin on')
  vim.o.showmode = false

  -- What Tab does in a Python buffer without Enclave (the ftplugin's 'softtabstop').
  vim.cmd('enew | setlocal buftype=nofile | setfiletype python')
  api.nvim_buf_set_lines(0, 0, -1, false, { 'x = 1', '' })
  press('baseline', '<Tab>')
  local enclave = require('enclave')
  local setup = {
    cmd = vim.json.decode(assert(os.getenv('ENCLAVE_TEST_CMD'))),
    auto_trigger = false, -- suggestions only when asked (<M-]>)
  }
  globals.callback()
  enclave.setup(setup)

  -- Global mappings, looked up at the time of the press.
  for _, kind in ipairs({ 'callback', 'lua_expr', 'plug_chain', 'sid_expr', 'none' }) do
    globals[kind]()
    open_case(nil)
    press('global_' .. kind, '<Tab>')
  end

  -- Buffer-local mappings replaced by Enclave's (a global one exists too: it must not run).
  globals.callback()
  for _, kind in ipairs({ 'callback', 'lua_expr', 'rhs' }) do
    open_case(kind)
    press('local_' .. kind, '<Tab>')
  end

  -- With a suggestion shown, Tab accepts and no earlier mapping runs.
  local buf = open_case('callback')
  press('ghost_local', '<Tab>', true)


  -- setup() and attach again: Enclave's mapping is not taken for the earlier one (no loop).
  enclave.setup(setup)
  enclave.on_attach(enclave.client(buf), buf)
  press('after_second_attach', '<Tab>')

  -- A plugin that maps over Enclave's key and falls back to it (as nvim-cmp does).
  local under = vim.fn.maparg('<Tab>', 'i', false, true)
  vim.keymap.set('i', '<Tab>', function()
    vim.b.wrapper_calls = (vim.b.wrapper_calls or 0) + 1
    under.callback()
  end, { buffer = buf })
  press('wrapped_no_ghost', '<Tab>')
  press('wrapped_ghost', '<Tab>', true)
  results.wrapper_calls = vim.b.wrapper_calls

  -- A global mapping made after Enclave attached is the one that runs.
  open_case(nil)
  vim.keymap.set('i', '<Tab>', function() return '<LATE>' end, { expr = true })
  press('global_later', '<Tab>')

  -- The popup menu owns the keys while it is open: Tab does not take the ghost.
  globals.callback()
  open_case(nil)
  insert_at_end()
  keys('<M-]>')
  wait_for('ghost before menu', 10000, function() return R.has_ghost(0) end)
  keys('<Cmd>call complete(col("."), ["alpha", "beta"])<CR>')
  wait_for('menu', 5000, function() return vim.fn.pumvisible() == 1 end)
  keys('<Tab>')
  wait_for('menu key', 1500, function() return R.line(2):find('<G-CB>', 1, true) ~= nil end)
  results.cases.popup_menu = { line = R.line(2), ghost_left = R.has_ghost(0) }
  leave()

  -- Every default key falls back to its global mapping when there is no suggestion.
  local defaults = require('enclave.config').defaults.keymaps
  results.default_keys = {}
  for name, lhs in pairs(defaults) do
    vim.keymap.set('i', lhs, '<lt>' .. name .. '>')
    open_case(nil)
    press('key_' .. name, lhs)
    results.default_keys[name] = results.cases['key_' .. name]
    pcall(vim.keymap.del, 'i', lhs)
  end

  -- A user's own expr mapping may call accept() (text is locked there; the edit waits).
  open_case(nil)
  vim.keymap.set('i', '<C-y>', function()
    if require('enclave').accept() then return '' end
    return '<NO>'
  end, { expr = true, buffer = 0 })
  press('user_expr_accept', '<C-y>', true)
  press('user_expr_no_ghost', '<C-y>')

  -- Detaching puts the buffer-local mapping back.
  buf = open_case('rhs')
  local client = enclave.client(buf)
  vim.lsp.buf_detach_client(buf, client.id)
  wait_for('detached', 5000, function() return enclave.client(buf) == nil end)
  local restored = vim.fn.maparg('<Tab>', 'i', false, true)
  results.restored = { rhs = restored.rhs, buffer = restored.buffer }
end)
