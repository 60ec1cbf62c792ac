--- :checkhealth enclave
local M = {}

local health = vim.health

--- JSON-RPC messages in `data` (Content-Length framed); the incomplete tail is ignored.
local function messages(data)
  local found, pos = {}, 1
  while true do
    local header_end = data:find('\r\n\r\n', pos, true)
    if not header_end then break end
    local len = tonumber(data:sub(pos, header_end):match('Content%-Length: *(%d+)'))
    local body = len and data:sub(header_end + 4, header_end + 3 + len)
    if not body or #body < len then break end
    local ok, decoded = pcall(vim.json.decode, body)
    if ok then found[#found + 1] = decoded end
    pos = header_end + 4 + len
  end
  return found
end

--- Start the server, send only `initialize` (so no model is loaded) and read its answer.
local function probe(cmd)
  local body = vim.json.encode({
    jsonrpc = '2.0',
    id = 1,
    method = 'initialize',
    params = { processId = vim.NIL, rootUri = vim.NIL, capabilities = vim.empty_dict() },
  })
  local out = ''
  local ok, proc = pcall(vim.system, cmd, {
    stdin = true,
    stdout = function(_, data) out = out .. (data or '') end,
  })
  if not ok then return false, tostring(proc) end
  proc:write(('Content-Length: %d\r\n\r\n%s'):format(#body, body))
  local answer
  -- Keep stdin open until the answer is in: the server stops at the end of its input.
  vim.wait(20000, function()
    for _, msg in ipairs(messages(out)) do
      if msg.id == 1 then answer = msg end
    end
    return answer ~= nil
  end, 50)
  proc:write(nil)
  local result = proc:wait(5000)
  if not answer then
    return false, ('no answer (exit code %s): %s'):format(result.code, vim.trim(result.stderr or ''))
  end
  if type(answer.result) ~= 'table' then
    return false, 'unexpected answer: ' .. vim.inspect(answer):sub(1, 200)
  end
  return true, answer.result
end

local function percent(rate)
  return type(rate) == 'number' and ('%.1f%%'):format(rate * 100) or '-' -- null: none shown
end

--- The server's local statistics (enclave/getStatus `stats`): this session, per language.
local function statistics(client)
  health.start('Statistics')
  if not client then
    health.info('no Enclave client running: open a file to see this session\'s figures')
    return
  end
  local answer, err
  local bufnr = next(client.attached_buffers or {}) -- a buffer the client serves
  if vim.fn.has('nvim-0.11') == 1 then
    answer, err = client:request_sync('enclave/getStatus', {}, 10000, bufnr)
  else
    answer, err = client.request_sync('enclave/getStatus', {}, 10000, bufnr)
  end
  local result = answer and answer.result
  local stats = type(result) == 'table' and result.stats or nil
  if type(stats) ~= 'table' then
    health.warn('no statistics from the server: ' .. tostring(err or (answer and vim.inspect(answer.err)) or 'none'))
    return
  end
  if stats.enabled == false then
    health.info('local statistics are off (stats.enabled: false)')
    return
  end
  if type(stats.warning) == 'string' and stats.warning ~= '' then health.warn(stats.warning) end
  local session = type(stats.session) == 'table' and stats.session or {}
  local languages = vim.tbl_keys(session)
  table.sort(languages)
  if #languages == 0 then health.info('this session: no suggestions shown yet') end
  for _, language in ipairs(languages) do
    local s = session[language]
    health.info(('this session, %s: shown %s, accepted %s (%s), characters accepted %s of %s')
      :format(language, s.shown, s.accepted, percent(s.acceptanceRate), s.charsAccepted, s.charsSuggested))
  end
  health.info('all time: `enclave stats`; file: ' .. tostring(stats.file))
end

--- The model: the running client's state, else the model the settings select, checked offline.
local function model(client, cmd, options)
  health.start('Model')
  local status = client and require('enclave.status').by_client[client.id]
  if status then
    local line = ('state: %s%s'):format(status.state, status.message ~= '' and (' (' .. status.message .. ')') or '')
    if status.state == 'ready' then
      health.ok(line .. (status.model ~= '' and ('; model: ' .. status.model) or ''))
    elseif status.state == 'loading' then
      health.warn(line)
    else
      health.error(line)
    end
    if status.lastEmptyReason and status.lastEmptyReason ~= '' then
      health.info('last empty answer: ' .. status.lastEmptyReason)
    end
    return
  end
  -- No server running: check the model the settings select, offline.
  local model = (options.settings or {}).model or {}
  local args = { cmd[1], 'model', 'verify' }
  if model.path then
    vim.list_extend(args, { '--path', model.path })
  elseif model.size then
    vim.list_extend(args, { '--size', model.size })
  end
  if vim.fs.basename(cmd[1]):match('^enclave') == nil then
    health.info('no Enclave client running; start one by opening a file to see the model state')
    return
  end
  local verify = vim.system(args, { text = true }):wait(120000)
  local text = vim.trim((verify.stdout or '') .. (verify.stderr or ''))
  if verify.code == 0 then
    health.ok('model: ' .. text)
  else
    health.error('model: ' .. text, { 'run `enclave model fetch` (with --size as in your settings)' })
  end
end

function M.check()
  health.start('Neovim')
  local v = vim.version()
  local version = ('%d.%d.%d'):format(v.major, v.minor, v.patch)
  if vim.fn.has('nvim-0.10') == 0 then
    health.error('Neovim ' .. version .. ': Enclave needs 0.10 or newer')
  elseif vim.lsp.inline_completion then
    health.ok('Neovim ' .. version .. ': native inline completion (vim.lsp.inline_completion)')
  else
    health.ok('Neovim ' .. version .. ': ghost text drawn by the plugin (extmarks)')
  end

  health.start('Server')
  local enclave = require('enclave')
  local lsp = require('enclave.lsp')
  local options = enclave.get_options()
  local enabled = lsp.has_config() and vim.lsp.is_enabled and vim.lsp.is_enabled('enclave')
  if enclave.options then
    health.ok('started by require("enclave").setup()' .. (enabled and ' and vim.lsp.enable("enclave")' or ''))
  elseif enabled then
    health.ok('started by vim.lsp.enable("enclave") (lsp/enclave.lua); plugin options: defaults')
  else
    health.warn('neither require("enclave").setup() nor vim.lsp.enable("enclave") was called')
  end
  health.info(require('enclave.toggle').describe(0))
  local cmd = lsp.cmd(options)
  local why = lsp.cmd_problem(cmd, options)
  if why then
    health.error(why)
    return
  end
  if type(cmd) == 'function' then
    health.info('server command: a function (not probed)')
    return
  end
  health.ok('server command: ' .. table.concat(cmd, ' '))
  local ok, result = probe(cmd)
  if not ok then
    health.error('the server did not start: ' .. result)
    return
  end
  local info = result.serverInfo or {}
  health.ok(('the server starts: %s %s'):format(info.name or '?', info.version or ''))
  local commands = ((result.capabilities or {}).executeCommandProvider or {}).commands or {}
  if #commands > 0 then
    health.ok('server commands: ' .. table.concat(commands, ', '))
  else
    health.info('this server offers no commands (:EnclaveExplain, :EnclaveReview need them)')
  end

  local client = enclave.client(0) or vim.lsp.get_clients({ name = 'enclave' })[1]
  model(client, cmd, options)
  statistics(client)
end

return M
