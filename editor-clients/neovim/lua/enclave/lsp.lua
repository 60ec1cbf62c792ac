--- The one client configuration, shared by require("enclave").setup() (vim.lsp.start) and
--- lsp/enclave.lua (vim.lsp.config / vim.lsp.enable on Neovim 0.11+).
local config = require('enclave.config')
local status = require('enclave.status')

local M = {}

local api = vim.api

M.name = 'enclave'

local warned = {}

--- Warn once per key about user-only settings found in `settings` (they are dropped there).
local function warn_user_only(keys)
  local fresh = vim.tbl_filter(function(k) return not warned[k] end, keys)
  if #fresh == 0 then return end
  for _, k in ipairs(fresh) do warned[k] = true end
  vim.schedule(function()
    vim.notify(('Enclave: %s in `settings` ignored: user-only settings go in `init_options` '
      .. '(:help enclave-user-only)'):format(table.concat(fresh, ', ')), vim.log.levels.WARN)
  end)
end

--- Runs before `initialize`: user-only settings never leave in `settings` (init_options, from
--- the user's own configuration, are the only place the server takes them from).
function M.before_init(_, client_config)
  local removed = config.strip_user_only(client_config.settings)
  if #removed > 0 then warn_user_only(removed) end
end

--- The project root of `bufnr`: a root marker's folder, else the file's folder, else cwd.
function M.root(bufnr, markers)
  local root = vim.fs.root(bufnr, markers)
    or vim.fs.dirname(api.nvim_buf_get_name(bufnr))
  if root == nil or root == '' or root == '.' then root = vim.fn.getcwd() end
  return root
end

--- One server (one model in memory) for the whole editor, whatever the project root.
function M.reuse_client(client, conf)
  return client.name == conf.name and not client:is_stopped()
end

--- The configuration for `options` (resolved plugin options; default: setup()'s or defaults).
function M.config(options)
  -- Ghost text and keys attach on LspAttach, so that a user's on_attach cannot replace them.
  require('enclave').define()
  options = options or require('enclave').get_options()
  -- Without an executable, `enclave` (PATH at start time); start() and :checkhealth say why.
  local cmd = config.server_cmd(options) or { 'enclave', 'serve' }
  local markers = options.root_markers
  return {
    name = M.name,
    cmd = cmd,
    filetypes = vim.deepcopy(options.filetypes),
    root_markers = vim.deepcopy(markers),
    root_dir = function(bufnr, on_dir) on_dir(M.root(bufnr, markers)) end,
    -- User-only settings go in initializationOptions alone; `settings` (sent as
    -- didChangeConfiguration and answering workspace/configuration) never carries them.
    init_options = vim.deepcopy(options.settings),
    settings = config.without_user_only(options.settings),
    before_init = M.before_init,
    handlers = { ['enclave/status'] = status.handler },
    on_exit = function(_, _, client_id) require('enclave').on_exit(client_id) end,
    reuse_client = M.reuse_client,
  }
end

--- Whether Neovim has vim.lsp.config (0.11+).
function M.has_config()
  return vim.lsp.config ~= nil and type(vim.lsp.enable) == 'function'
end

--- The configuration a new client gets for `bufnr`: on 0.11+ the resolved vim.lsp.config
--- (lsp/enclave.lua with the user's vim.lsp.config('enclave', ...) over it), else M.config().
function M.for_buffer(bufnr, options)
  local conf
  if M.has_config() then conf = vim.deepcopy(vim.lsp.config[M.name]) end
  conf = conf or M.config(options)
  conf.root_dir = M.root(bufnr, conf.root_markers or options.root_markers)
  return conf
end

--- Why `cmd` cannot start the server, or nil.
function M.cmd_problem(cmd, options)
  if type(cmd) == 'function' then return nil end
  if type(cmd) ~= 'table' or type(cmd[1]) ~= 'string' then return 'enclave: no server command' end
  if vim.fn.executable(cmd[1]) == 1 then return nil end
  local _, why = config.server_cmd(options)
  return why or ('enclave: server executable not found: %s'):format(cmd[1])
end

--- The server command a new client would run (the resolved configuration's `cmd`).
function M.cmd(options)
  local conf = M.has_config() and vim.lsp.config[M.name] or M.config(options)
  return conf and conf.cmd
end

--- Forget the resolved vim.lsp.config, so the next start reads lsp/enclave.lua again.
function M.invalidate()
  if M.has_config() then vim.lsp.config(M.name, {}) end
end

return M
