--- Enclave: inline code completions from a local model, through the `enclave serve` LSP server.
---
--- require("enclave").setup({ ... }) starts the server for the configured filetypes. This
--- plugin only wires Neovim to the server: all prompting and context logic lives in the server.
local config = require('enclave.config')
local status = require('enclave.status')

local M = {}

local api = vim.api
local has_011 = vim.fn.has('nvim-0.11') == 1

--- The resolved options (after setup()).
M.options = nil

local function notify(msg, level)
  vim.notify('Enclave: ' .. msg, level or vim.log.levels.INFO)
end

local function native_inline()
  return M.options.native and vim.lsp.inline_completion ~= nil
end

--- The Enclave client attached to `bufnr` (default: current buffer), or nil.
function M.client(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr or 0, name = 'enclave' })[1]
end

-- -- keymaps -----------------------------------------------------------------------------

local function feed(lhs)
  api.nvim_feedkeys(vim.keycode(lhs), 'n', false)
end

local function actions()
  if native_inline() then
    local ic = vim.lsp.inline_completion
    return {
      accept = function() return ic.get() end,
      accept_line = function() return ic.get() end, -- the native API accepts whole items only
      next = function()
        ic.select({ count = 1 })
        return true
      end,
      dismiss = function() return false end,
    }
  end
  local ghost = require('enclave.ghost')
  return {
    accept = function() return ghost.accept(0) end,
    accept_line = function() return ghost.accept_line(0) end,
    next = function() return ghost.next(0) end,
    dismiss = function() return ghost.dismiss(0) end,
  }
end

local descriptions = {
  accept = 'Enclave: accept the suggestion',
  accept_line = 'Enclave: accept one line of the suggestion',
  next = 'Enclave: next suggestion',
  dismiss = 'Enclave: dismiss the suggestion',
}

local function set_keymaps(bufnr)
  local acts = actions()
  for name, lhs in pairs(M.options.keymaps) do
    if lhs then
      vim.keymap.set('i', lhs, function()
        -- Without a suggestion the key does what it does without Enclave.
        if not acts[name]() then feed(lhs) end
      end, { buffer = bufnr, desc = descriptions[name], silent = true })
    end
  end
end

-- -- client ------------------------------------------------------------------------------

local function on_attach(client, bufnr)
  if native_inline() then
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
  else
    require('enclave.ghost').attach(bufnr, {
      auto_trigger = M.options.auto_trigger,
      debounce_ms = M.options.debounce_ms,
    })
  end
  set_keymaps(bufnr)
  require('enclave.focus').attach(bufnr)
end

--- Start (or reuse) the server and attach it to `bufnr`. Returns the client id or nil.
function M.start(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  if not M.options then error('enclave: call require("enclave").setup() first', 0) end
  if vim.bo[bufnr].buftype ~= '' then return nil end
  local cmd, why = config.server_cmd(M.options)
  if not cmd then
    if not M._warned then notify(why, vim.log.levels.ERROR) end
    M._warned = true
    return nil
  end
  local root = vim.fs.root(bufnr, M.options.root_markers)
    or vim.fs.dirname(api.nvim_buf_get_name(bufnr))
  if root == nil or root == '' or root == '.' then root = vim.fn.getcwd() end
  return vim.lsp.start({
    name = 'enclave',
    cmd = cmd,
    root_dir = root,
    -- User-only settings go in initializationOptions alone; `settings` (sent as
    -- didChangeConfiguration and answering workspace/configuration) never carries them.
    init_options = M.options.settings,
    settings = config.without_user_only(M.options.settings),
    handlers = { ['enclave/status'] = status.handler },
    on_attach = on_attach,
    on_exit = function(_, _, client_id)
      status.forget(client_id)
      require('enclave.focus').reset()
    end,
  }, {
    bufnr = bufnr,
    -- One server (one model in memory) for the whole editor, whatever the project root.
    reuse_client = function(client, conf)
      return client.name == conf.name and not client:is_stopped()
    end,
  })
end

--- Stop the Enclave server and start it again for the buffers it served.
function M.restart()
  local buffers = {}
  for _, client in ipairs(vim.lsp.get_clients({ name = 'enclave' })) do
    vim.list_extend(buffers, vim.tbl_keys(client.attached_buffers or {}))
    if has_011 then client:stop() else client.stop() end
  end
  for _, bufnr in ipairs(buffers) do
    if api.nvim_buf_is_valid(bufnr) then M.start(bufnr) end
  end
end

--- Send new settings to the running server (workspace/didChangeConfiguration). A change of a
--- user-only setting (config.user_only) restarts the server instead: the server takes those
--- from initializationOptions only.
function M.set_settings(settings)
  if type(settings) ~= 'table' then
    error(('enclave.set_settings: settings: expected table, got %s'):format(type(settings)), 2)
  end
  local old = M.options.settings
  M.options.settings = vim.deepcopy(settings)
  if config.user_only_changed(old, settings) then
    M.restart()
    return
  end
  local shared = config.without_user_only(M.options.settings)
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
  local group = api.nvim_create_augroup('enclave', { clear = true })
  api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = options.filetypes,
    callback = function(args) M.start(args.buf) end,
  })
  require('enclave.commands').create()
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

--- Statusline component: "Enclave ready", "Enclave loading …", "" without a client.
function M.statusline()
  return status.statusline()
end

--- The last `enclave/status` of the client attached to `bufnr` (default: current), or nil.
function M.status(bufnr)
  return (status.get(bufnr))
end

return M
