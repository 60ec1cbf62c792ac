--- Enclave: inline code completions from a local model, through the `enclave serve` LSP server.
---
--- require("enclave").setup({ ... }) starts the server for the configured filetypes; on Neovim
--- 0.11+ vim.lsp.enable('enclave') does the same from lsp/enclave.lua. This plugin only wires
--- Neovim to the server: all prompting and context logic lives in the server.
local config = require('enclave.config')
local status = require('enclave.status')
local lsp = require('enclave.lsp')

local M = {}

local api = vim.api
local has_011 = vim.fn.has('nvim-0.11') == 1

--- The resolved options (after setup()).
M.options = nil

local defaults = nil

--- setup()'s options, or the defaults when setup() was not called (vim.lsp.enable alone).
function M.get_options()
  if M.options then return M.options end
  defaults = defaults or config.resolve({})
  return defaults
end

local function notify(msg, level)
  vim.notify('Enclave: ' .. msg, level or vim.log.levels.INFO)
end

function M.native_inline()
  return M.get_options().native and vim.lsp.inline_completion ~= nil
end

--- The Enclave client attached to `bufnr` (default: current buffer), or nil.
function M.client(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr or 0, name = 'enclave' })[1]
end

-- -- keys and commands (also defined by plugin/enclave.lua) --------------------------------

local actions = require('enclave.actions')
M.accept = actions.accept
M.accept_word = actions.accept_word
M.accept_line = actions.accept_line
M.next = actions.next
M.prev = actions.prev
M.dismiss = actions.dismiss
M.visible = actions.visible

--- Completions on or off. scope: 'global' (default), 'buffer' or 'filetype'; value: true,
--- false or nil (toggle). See :help enclave-toggle.
function M.toggle(scope, value)
  return require('enclave.toggle').set(scope or 'global', value)
end

function M.enabled(bufnr)
  return require('enclave.toggle').enabled(bufnr or 0)
end

--- User commands, <Plug> mappings and the attach autocommands (idempotent).
function M.define()
  require('enclave.commands').create()
  require('enclave.keys').plugs()
  local group = api.nvim_create_augroup('enclave.attach', { clear = true })
  api.nvim_create_autocmd('LspAttach', {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == lsp.name then M.on_attach(client, args.buf) end
    end,
  })
  api.nvim_create_autocmd('LspDetach', {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == lsp.name then M.on_detach(args.buf) end
    end,
  })
end

-- -- client ------------------------------------------------------------------------------

--- Attach ghost text, keys and focus to `bufnr` (from the LspAttach autocommand).
function M.on_attach(_, bufnr)
  local options = M.get_options()
  if M.native_inline() then
    vim.lsp.inline_completion.enable(require('enclave.toggle').enabled(bufnr), { bufnr = bufnr })
  else
    require('enclave.ghost').attach(bufnr, {
      auto_trigger = options.auto_trigger,
      debounce_ms = options.debounce_ms,
    })
  end
  require('enclave.keys').attach(bufnr, options.keymaps)
  require('enclave.focus').attach(bufnr)
end

function M.on_detach(bufnr)
  require('enclave.keys').unmap(bufnr)
  require('enclave.ghost').detach(bufnr)
end

function M.on_exit(client_id)
  status.forget(client_id)
  require('enclave.focus').reset()
end

--- Start (or reuse) the server and attach it to `bufnr`. Returns the client id or nil.
function M.start(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  if not M.options then error('enclave: call require("enclave").setup() first', 0) end
  if vim.bo[bufnr].buftype ~= '' then return nil end
  local conf = lsp.for_buffer(bufnr, M.options)
  local why = lsp.cmd_problem(conf.cmd, M.options)
  if why then
    if not M._warned then notify(why, vim.log.levels.ERROR) end
    M._warned = true
    return nil
  end
  return vim.lsp.start(conf, { bufnr = bufnr, reuse_client = lsp.reuse_client })
end

--- Stop the Enclave server and start it again for the buffers it served.
function M.restart()
  local buffers = {}
  for _, client in ipairs(vim.lsp.get_clients({ name = 'enclave' })) do
    vim.list_extend(buffers, vim.tbl_keys(client.attached_buffers or {}))
    if has_011 then client:stop() else client.stop() end
  end
  lsp.invalidate()
  for _, bufnr in ipairs(buffers) do
    if api.nvim_buf_is_valid(bufnr) then
      local conf = lsp.for_buffer(bufnr, M.get_options())
      vim.lsp.start(conf, { bufnr = bufnr, reuse_client = lsp.reuse_client })
    end
  end
end

--- Send new settings to the running server (workspace/didChangeConfiguration). A change of a
--- user-only setting (config.user_only) restarts the server instead: the server takes those
--- from initializationOptions only.
function M.set_settings(settings)
  if type(settings) ~= 'table' then
    error(('enclave.set_settings: settings: expected table, got %s'):format(type(settings)), 2)
  end
  local options = M.get_options()
  local old = options.settings
  options.settings = vim.deepcopy(settings)
  lsp.invalidate()
  if config.user_only_changed(old, settings) then
    M.restart()
    return
  end
  local shared = config.without_user_only(options.settings)
  for _, client in ipairs(vim.lsp.get_clients({ name = 'enclave' })) do
    client.settings = shared
    local params = { settings = shared }
    if has_011 then
      client:notify('workspace/didChangeConfiguration', params)
    else
      client.notify('workspace/didChangeConfiguration', params)
    end
  end
end

--- Configure Enclave and start it for the configured filetypes. Calling it again applies the
--- new options (changed settings go to the running server).
function M.setup(opts)
  local first = M.options == nil
  local options = config.resolve(opts)
  local old_settings = M.options and M.options.settings
  M.options = options
  lsp.invalidate()
  M.define()
  local group = api.nvim_create_augroup('enclave', { clear = true })
  api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = options.filetypes,
    callback = function(args) M.start(args.buf) end,
  })
  -- Buffers already open with a matching filetype.
  for _, buf in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(buf) and vim.tbl_contains(options.filetypes, vim.bo[buf].filetype) then
      M.start(buf)
    end
  end
  if not first and not vim.deep_equal(old_settings, options.settings) then
    M.set_settings(options.settings)
  end
end

--- Statusline component: "Enclave ready", "Enclave loading …", "Enclave off" when completions
--- are switched off for the buffer, "" without a client.
function M.statusline()
  return status.statusline()
end

--- The last `enclave/status` of the client attached to `bufnr` (default: current), or nil.
function M.status(bufnr)
  return (status.get(bufnr))
end

return M
