-- Option validation, without a server: nvim --clean -l tests/config_spec.lua
-- Prints one line per check; exits non-zero on the first failure.
local here = debug.getinfo(1, 'S').source:gsub('^@', '')
vim.opt.runtimepath:prepend(vim.fn.fnamemodify(here, ':p:h:h'))
local config = require('enclave.config')
local failures = 0

local function expect_error(opts, pattern)
  local ok, err = pcall(config.resolve, opts)
  local good = not ok and tostring(err):find(pattern, 1, true) ~= nil
    and tostring(err):find('^enclave%.setup: ') ~= nil
  print(('%s  error for %s: %s'):format(good and 'ok ' or 'FAIL', vim.inspect(opts, { newline = ' ', indent = '' }), tostring(err)))
  if not good then failures = failures + 1 end
end

local function expect(name, cond)
  print(('%s  %s'):format(cond and 'ok ' or 'FAIL', name))
  if not cond then failures = failures + 1 end
end

expect_error({ debounce_ms = 'fast' }, 'debounce_ms')
expect_error({ debounce_ms = -1 }, 'debounce_ms')
expect_error({ auto_trigger = 1 }, 'auto_trigger')
expect_error({ filetypes = 'python' }, 'filetypes')
expect_error({ filetypes = { 'python', 3 } }, 'filetypes[2]')
expect_error({ keymaps = { accept = 1 } }, 'keymaps.accept')
expect_error({ keymaps = { acept = '<Tab>' } }, 'unknown option "acept"')
expect_error({ keymaps = true }, 'keymaps')
expect_error({ settings = 'x' }, 'settings')
expect_error({ cmd = {} }, 'cmd')
expect_error({ cmd = 5 }, 'cmd')
expect_error({ debounce = 100 }, 'unknown option "debounce"')

local o = config.resolve({ filetypes = { 'lua' }, keymaps = { accept = false }, settings = { model = { size = '0.5b' } } })
expect('lists replace the defaults', vim.deep_equal(o.filetypes, { 'lua' }))
expect('keymap disabled with false', o.keymaps.accept == false and o.keymaps.next == '<M-]>')
expect('settings kept', o.settings.model.size == '0.5b')
expect('defaults', o.debounce_ms == 150 and o.auto_trigger == true)
expect('keymaps = false disables all', config.resolve({ keymaps = false }).keymaps.dismiss == false)
expect('cmd string gets serve', vim.deep_equal(config.server_cmd({ cmd = '/x/enclave' }), { '/x/enclave', 'serve' }))
expect('cmd list kept', vim.deep_equal(config.server_cmd({ cmd = { 'a', 'b' } }), { 'a', 'b' }))
local found = config.find_executable()
expect('executable found (PATH or checkout .venv): ' .. tostring(found), found ~= nil)

-- setup() raises the same error.
local ok, err = pcall(require('enclave').setup, { debounce_ms = 'x' })
expect('setup raises: ' .. tostring(err), not ok and tostring(err):find('debounce_ms', 1, true) ~= nil)

if failures > 0 then
  print(failures .. ' failure(s)')
  os.exit(1)
end
print('all ok')
