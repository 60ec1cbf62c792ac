--- The server's state, fed by `enclave/status` notifications, for the statusline and commands.
local M = {}

--- Last `enclave/status` params per client id: { state, message, model, lastEmptyReason }.
M.by_client = {}
--- Number of inline completion requests in flight (for the "thinking" mark).
M.pending = 0

local icons = { loading = '…', ready = '', error = '!', stopped = '×', disabled = '-' }

local function refresh()
  vim.cmd('redrawstatus')
  vim.api.nvim_exec_autocmds('User', { pattern = 'EnclaveStatus', modeline = false })
end

--- Handler for the `enclave/status` notification (registered on the client).
function M.handler(_, params, ctx)
  if type(params) ~= 'table' or not ctx then return end
  M.by_client[ctx.client_id] = params
  vim.schedule(refresh)
end

function M.forget(client_id)
  M.by_client[client_id] = nil
end

function M.set_pending(delta)
  M.pending = math.max(0, M.pending + delta)
end

--- The status of the Enclave client attached to `bufnr` (default: current), or nil.
function M.get(bufnr)
  local clients = vim.lsp.get_clients({ name = 'enclave', bufnr = bufnr or 0 })
  local client = clients[1]
  if not client then return nil end
  return M.by_client[client.id] or { state = 'loading', message = 'starting' }, client
end

--- A short statusline component: "" when no Enclave client is attached to the buffer.
function M.statusline()
  local status = M.get(0)
  if not status then return '' end
  if not require('enclave.toggle').enabled(0) then return 'Enclave off' end
  local text = 'Enclave ' .. (status.state or '?')
  local icon = icons[status.state]
  if icon and icon ~= '' then text = text .. ' ' .. icon end
  if M.pending > 0 and status.state == 'ready' then text = text .. ' …' end
  return text
end

return M
