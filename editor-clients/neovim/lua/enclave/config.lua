--- Options of require("enclave").setup(): defaults, validation, the server command.
local M = {}

local uv = vim.uv or vim.loop

--- The defaults. `cmd = nil` means: `enclave` on PATH, else the checkout's .venv/bin/enclave.
M.defaults = {
  cmd = nil,
  settings = {},
  filetypes = {
    'python', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact', 'go', 'rust',
    'java', 'c', 'cpp', 'lua', 'sh', 'bash',
  },
  root_markers = { '.git', 'pyproject.toml', 'package.json', 'go.mod', 'Cargo.toml' },
  -- Insert-mode keys in attached buffers; without a suggestion each does what it did before
  -- (keys.lua). The <Plug>(enclave-*) mappings are there either way.
  keymaps = {
    accept = '<Tab>',
    accept_word = '<M-Right>',
    accept_line = '<M-C-Right>',
    next = '<M-]>',
    prev = '<M-[>',
    dismiss = '<C-]>',
  },
  auto_trigger = true,
  debounce_ms = 150,
  native = true, -- use vim.lsp.inline_completion when Neovim has it (0.12+)
}

--- vim.validate for one value, on both the 0.10 (table) and 0.11+ (positional) signatures.
local function check(name, value, types, optional)
  if vim.fn.has('nvim-0.11') == 1 then
    vim.validate(name, value, types, optional)
  else
    vim.validate({ [name] = { value, types, optional } })
  end
end

local function list_of_strings(name, value)
  check(name, value, 'table')
  for i, v in ipairs(value) do
    check(('%s[%d]'):format(name, i), v, 'string')
  end
  if #value ~= vim.tbl_count(value) then
    error(('%s: expected a list, got a table with keys'):format(name), 0)
  end
end

local function known_keys(prefix, value, names)
  for key in pairs(value) do
    if not vim.tbl_contains(names, key) then
      error(('%sunknown option %q'):format(prefix, tostring(key)), 0)
    end
  end
end

local option_names = {
  'cmd', 'settings', 'filetypes', 'root_markers', 'keymaps', 'auto_trigger', 'debounce_ms', 'native',
}

--- Validate user options; raises an error naming the first bad option.
function M.validate(opts)
  check('opts', opts, 'table', true)
  opts = opts or {}
  known_keys('', opts, option_names)
  if type(opts.cmd) == 'table' then
    list_of_strings('cmd', opts.cmd)
    if #opts.cmd == 0 then error('cmd: expected a non-empty list', 0) end
  else
    check('cmd', opts.cmd, { 'string', 'function' }, true)
  end
  check('settings', opts.settings, 'table', true)
  if opts.filetypes ~= nil then list_of_strings('filetypes', opts.filetypes) end
  if opts.root_markers ~= nil then list_of_strings('root_markers', opts.root_markers) end
  check('keymaps', opts.keymaps, { 'table', 'boolean' }, true)
  if type(opts.keymaps) == 'table' then
    known_keys('keymaps: ', opts.keymaps, vim.tbl_keys(M.defaults.keymaps))
    for key, lhs in pairs(opts.keymaps) do
      if lhs ~= false then check('keymaps.' .. key, lhs, 'string') end
    end
  elseif opts.keymaps == true then
    error('keymaps: expected a table or false, got true', 0)
  end
  check('auto_trigger', opts.auto_trigger, 'boolean', true)
  check('debounce_ms', opts.debounce_ms, 'number', true)
  if opts.debounce_ms ~= nil and (opts.debounce_ms < 0 or opts.debounce_ms % 1 ~= 0) then
    error(('debounce_ms: expected a non-negative integer, got %s'):format(opts.debounce_ms), 0)
  end
  check('native', opts.native, 'boolean', true)
  return opts
end

--- Validated options merged over the defaults. Errors start with "enclave.setup: ".
function M.resolve(opts)
  local ok, err = pcall(M.validate, opts)
  if not ok then
    -- vim.validate prefixes "file:line: "; the option's name is what the user needs.
    err = tostring(err):gsub('^[^:]*%.lua:%d+: ', '')
    error('enclave.setup: ' .. err, 0)
  end
  opts = opts or {}
  local merged = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts)
  -- Lists replace, they do not merge index by index.
  for _, key in ipairs({ 'filetypes', 'root_markers', 'cmd' }) do
    if opts[key] ~= nil then merged[key] = opts[key] end
  end
  if opts.keymaps == false then
    merged.keymaps = vim.tbl_map(function() return false end, M.defaults.keymaps)
  end
  merged.settings = vim.deepcopy(opts.settings or {})
  return merged
end

-- -- user-only settings -----------------------------------------------------------------

--- Server settings a repository must not choose: where code goes, which model file is read,
--- where logs and the model's saved states are written. The server's user-only settings (`x-userOnly` in
--- `enclave settings-schema`; tests/editors/test_neovim.py checks that the two lists agree). They
--- reach the server only in initializationOptions: changing one restarts the server.
M.user_only = {
  'model.path', 'model.stateCacheOnDisk', 'log.file', 'backend.kind', 'backend.url',
  'backend.model', 'backend.allowHosts',
}

--- Settings as the server reads them (nested or dotted, optionally under `enclave`), as one
--- table of dotted keys; lists are values.
function M.flatten(settings)
  local flat = {}
  if type(settings) ~= 'table' then return flat end
  if type(settings.enclave) == 'table' and not vim.islist(settings.enclave) then
    settings = settings.enclave
  end
  local function walk(tbl, prefix)
    for key, value in pairs(tbl) do
      local name = prefix .. tostring(key)
      if type(value) == 'table' and not vim.islist(value) then
        walk(value, name .. '.')
      else
        flat[name] = value
      end
    end
  end
  walk(settings, '')
  return flat
end

--- Whether `a` and `b` give any user-only setting a different value.
function M.user_only_changed(a, b)
  local fa, fb = M.flatten(a), M.flatten(b)
  for _, key in ipairs(M.user_only) do
    if not vim.deep_equal(fa[key], fb[key]) then return true end
  end
  return false
end

local function user_only_name(dotted)
  local name = dotted:lower():gsub('^enclave%.', '')
  for _, key in ipairs(M.user_only) do
    if name == key:lower() then return key end
  end
end

--- Remove every user-only setting from `settings` in place, in any form the server could read
--- (nested, dotted, under `enclave`, any case). Returns the removed keys, sorted, once each.
function M.strip_user_only(settings)
  local removed = {}
  local function walk(tbl, prefix)
    for key, value in pairs(tbl) do
      local dotted = prefix .. tostring(key)
      local name = user_only_name(dotted)
      if name then
        tbl[key] = nil
        removed[#removed + 1] = name
      elseif type(value) == 'table' and not vim.islist(value) then
        local before = #removed
        walk(value, dotted .. '.')
        if #removed > before and next(value) == nil then tbl[key] = nil end
      end
    end
  end
  if type(settings) == 'table' then walk(settings, '') end
  table.sort(removed)
  return vim.fn.uniq(removed)
end

--- A copy of `settings` without any user-only setting, in whichever form it was written.
function M.without_user_only(settings)
  if type(settings) ~= 'table' then return settings end
  local copy = vim.deepcopy(settings)
  M.strip_user_only(copy)
  return copy
end

--- The checkout this plugin lives in (editor-clients/neovim/lua/enclave/config.lua -> root).
local function checkout_root()
  local source = debug.getinfo(1, 'S').source:gsub('^@', '')
  return vim.fs.normalize(vim.fn.fnamemodify(source, ':p:h:h:h:h:h'))
end

--- The server's executable: `enclave` on PATH, else <checkout>/.venv/bin/enclave. Or nil.
function M.find_executable()
  local on_path = vim.fn.exepath('enclave')
  if on_path ~= '' then return on_path end
  local root = checkout_root()
  for _, rel in ipairs({ '.venv/bin/enclave', '.venv/Scripts/enclave.exe' }) do
    local candidate = root .. '/' .. rel
    local stat = uv.fs_stat(candidate)
    if stat and stat.type == 'file' and vim.fn.executable(candidate) == 1 then return candidate end
  end
  return nil
end

--- The command that starts the server as a list, or nil and the reason.
function M.server_cmd(options)
  local cmd = options.cmd
  if type(cmd) == 'function' then cmd = cmd() end
  if type(cmd) == 'string' then return { cmd, 'serve' } end
  if type(cmd) == 'table' then return vim.deepcopy(cmd) end
  local exe = M.find_executable()
  if exe == nil then
    return nil, 'enclave: no `enclave` executable on PATH and no .venv/bin/enclave in the checkout; '
      .. 'set `cmd` in require("enclave").setup()'
  end
  return { exe, 'serve' }
end

return M
