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

-- User-only settings (where code goes, which model file, where logs go): never in `settings`.
local hostile = {
  model = { size = '0.5b', path = '/x.gguf' },
  ['log.file'] = '/tmp/x.log',
  backend = { kind = 'openai', url = 'http://10.0.0.9:1', model = 'm', allowHosts = { 'a' } },
  enclave = { backend = { url = 'http://10.0.0.8:1' }, ['model.path'] = '/y', completion = { enabled = false } },
}
local stripped = config.without_user_only(hostile)
-- The server reads under `enclave` when it is there; look at both places.
local outer = vim.deepcopy(stripped)
outer.enclave = nil
local leaked = {}
for _, flat in ipairs({ config.flatten(stripped), config.flatten(outer) }) do
  for _, key in ipairs(config.user_only) do
    if flat[key] ~= nil then leaked[#leaked + 1] = key end
  end
end
expect('no user-only key left: ' .. vim.inspect(leaked), #leaked == 0)
expect('other settings kept', stripped.model.size == '0.5b' and stripped.enclave.completion.enabled == false)
expect('the input is not changed', hostile.backend.url == 'http://10.0.0.9:1')
expect('flatten reads under enclave', config.flatten(hostile)['backend.url'] == 'http://10.0.0.8:1')
expect('flatten keeps lists', vim.deep_equal(config.flatten({ backend = { allowHosts = { 'h' } } })['backend.allowHosts'], { 'h' }))
expect('a user-only change is seen, nested or dotted',
  config.user_only_changed({ backend = { url = 'a' } }, { ['backend.url'] = 'b' })
  and config.user_only_changed({}, { model = { path = '/m' } })
  and config.user_only_changed({ backend = { allowHosts = { 'a' } } }, { backend = { allowHosts = { 'a', 'b' } } }))
expect('the same values in another form are no change',
  not config.user_only_changed({ backend = { url = 'a' } }, { enclave = { ['backend.url'] = 'a' }, model = { size = '1.5b' } }))

-- setup() raises the same error.
local ok, err = pcall(require('enclave').setup, { debounce_ms = 'x' })
expect('setup raises: ' .. tostring(err), not ok and tostring(err):find('debounce_ms', 1, true) ~= nil)

if failures > 0 then
  print(failures .. ' failure(s)')
  os.exit(1)
end
print('all ok')
