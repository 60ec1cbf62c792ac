--- :EnclaveExplain, :EnclaveReview, :EnclaveRefactor, :EnclaveStatus.
--- Each asks the server (workspace/executeCommand, code actions, enclave/getStatus); the
--- answers come back through Neovim's normal LSP paths (diagnostics, workspace/applyEdit).
local M = {}

local api = vim.api

--- The server's workspace/executeCommand names this plugin calls (lsp_server/handlers/commands.py).
M.server_commands = {
  explain = 'enclave.lsp.explain',
  review = 'enclave.lsp.review',
  rewrite = 'enclave.lsp.rewrite',
}

local has_011 = vim.fn.has('nvim-0.11') == 1

local function notify(msg, level)
  vim.notify('Enclave: ' .. msg, level or vim.log.levels.INFO)
end

local function request(client, method, params, handler, bufnr)
  if has_011 then return client:request(method, params, handler, bufnr) end
  return client.request(method, params, handler, bufnr)
end

local function client_for(bufnr)
  local client = vim.lsp.get_clients({ bufnr = bufnr, name = 'enclave' })[1]
  if not client then notify('no Enclave server is attached to this buffer', vim.log.levels.WARN) end
  return client
end

--- Whether the server offers workspace/executeCommand `command`.
function M.supports(client, command)
  local provider = client and client.server_capabilities.executeCommandProvider
  return type(provider) == 'table' and vim.tbl_contains(provider.commands or {}, command)
end

--- The LSP range of a command's range (linewise; charwise for a charwise visual selection).
function M.range_of(bufnr, line1, line2, encoding)
  local start_mark = api.nvim_buf_get_mark(bufnr, '<')
  local end_mark = api.nvim_buf_get_mark(bufnr, '>')
  if vim.fn.visualmode() == 'v' and start_mark[1] == line1 and end_mark[1] == line2 then
    return vim.lsp.util.make_given_range_params(start_mark, end_mark, bufnr, encoding).range
  end
  local count = api.nvim_buf_line_count(bufnr)
  if line2 < count then
    return { start = { line = line1 - 1, character = 0 }, ['end'] = { line = line2, character = 0 } }
  end
  local last = api.nvim_buf_get_lines(bufnr, line2 - 1, line2, false)[1] or ''
  local character = vim.lsp.util.character_offset(bufnr, line2 - 1, #last, encoding)
  return { start = { line = line1 - 1, character = 0 }, ['end'] = { line = line2 - 1, character = character } }
end

--- Run the server command `command` (enclave.lsp.*) with one argument table; `on_result(result)` on success.
function M.execute(bufnr, command, argument, on_result)
  local client = client_for(bufnr)
  if not client then return false end
  if not M.supports(client, command) then
    notify(('this server does not offer %s (update Enclave)'):format(command), vim.log.levels.ERROR)
    return false
  end
  local params = { command = command, arguments = { argument } }
  request(client, 'workspace/executeCommand', params, function(err, result)
    vim.schedule(function()
      if err then
        notify(('%s failed: %s'):format(command, err.message or vim.inspect(err)), vim.log.levels.ERROR)
      elseif on_result then
        on_result(result)
      end
    end)
  end, bufnr)
  return true
end

--- A focused floating window with Markdown; `q` closes it. Returns buf, win.
function M.open_markdown(markdown, title)
  local lines = vim.split(markdown, '\n', { plain = true })
  local buf = api.nvim_create_buf(false, true)
  api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].filetype = 'markdown'
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = 'wipe'
  local width = 20
  for _, line in ipairs(lines) do width = math.max(width, vim.fn.strdisplaywidth(line)) end
  width = math.min(width, math.max(20, math.floor(vim.o.columns * 0.8)))
  local height = math.min(#lines, math.max(3, math.floor(vim.o.lines * 0.6)))
  local win = api.nvim_open_win(buf, true, {
    relative = 'editor',
    row = math.floor((vim.o.lines - height) / 2) - 1,
    col = math.floor((vim.o.columns - width) / 2),
    width = width,
    height = height,
    style = 'minimal',
    border = 'rounded',
    title = title and (' ' .. title .. ' ') or nil,
    title_pos = title and 'center' or nil,
  })
  vim.wo[win].wrap = true
  vim.wo[win].conceallevel = 2
  vim.keymap.set('n', 'q', '<Cmd>close<CR>', { buffer = buf, nowait = true, silent = true })
  return buf, win
end

local function uri_of(bufnr)
  return vim.uri_from_bufnr(bufnr)
end

function M.explain(opts)
  local bufnr = api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if not client then return end
  local range = M.range_of(bufnr, opts.line1, opts.line2, client.offset_encoding)
  local started = M.execute(bufnr, M.server_commands.explain, { uri = uri_of(bufnr), range = range },
    function(result)
      if type(result) ~= 'table' or type(result.markdown) ~= 'string' then
        notify('no explanation', vim.log.levels.WARN)
        return
      end
      local buf = M.open_markdown(result.markdown, 'Enclave: explain')
      if result.path ~= nil and result.path ~= vim.NIL then vim.b[buf].enclave_explain_path = result.path end
    end)
  if started then notify('explaining…') end
end

function M.review(opts)
  local bufnr = api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if not client then return end
  local argument = { uri = uri_of(bufnr) }
  if opts.range > 0 then
    argument.range = M.range_of(bufnr, opts.line1, opts.line2, client.offset_encoding)
  end
  -- Findings arrive as textDocument/publishDiagnostics, i.e. in vim.diagnostic.
  local started = M.execute(bufnr, M.server_commands.review, argument, function(result)
    local n = type(result) == 'table' and result.findings or 0
    notify(('review done: %d finding%s'):format(n, n == 1 and '' or 's'))
    api.nvim_exec_autocmds('User', {
      pattern = 'EnclaveReviewDone',
      modeline = false,
      data = { bufnr = bufnr, findings = n },
    })
  end)
  if started then notify('reviewing…') end
end

local function is_enclave_action(action)
  local title = type(action) == 'table' and action.title or ''
  return vim.startswith(title, 'Enclave:') or title == 'Fix with Enclave'
end

function M.refactor(opts)
  local bufnr = api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if not client then return end
  if opts.args ~= '' then
    -- :EnclaveRefactor {instruction}: a free-form rewrite of the range.
    local range = M.range_of(bufnr, opts.line1, opts.line2, client.offset_encoding)
    local argument = { uri = uri_of(bufnr), range = range, instruction = opts.args }
    if M.execute(bufnr, M.server_commands.rewrite, argument) then notify('rewriting…') end
    return
  end
  local action_opts = { filter = is_enclave_action }
  if opts.range > 0 then
    local last = api.nvim_buf_get_lines(bufnr, opts.line2 - 1, opts.line2, false)[1] or ''
    action_opts.range = { start = { opts.line1, 0 }, ['end'] = { opts.line2, math.max(#last - 1, 0) } }
  end
  vim.lsp.buf.code_action(action_opts)
end

--- Lines describing the server's state (from enclave/getStatus).
function M.describe(result)
  local lines = {
    ('state: %s'):format(result.state or '?'),
    ('message: %s'):format(result.message or ''),
    ('model: %s'):format(result.model ~= '' and result.model or '-'),
  }
  if result.lastEmptyReason and result.lastEmptyReason ~= '' then
    lines[#lines + 1] = 'last empty answer: ' .. result.lastEmptyReason
  end
  local recent = type(result.recent) == 'table' and result.recent or {}
  if #recent > 0 then
    local last = recent[#recent]
    lines[#lines + 1] = ('recent generations: %d; last: %d tokens in %d ms (prompt %d ms), %s')
      :format(#recent, last.generated_tokens or 0,
        math.floor((last.prompt_ms or 0) + (last.generate_ms or 0)), math.floor(last.prompt_ms or 0),
        last.stop_reason or '?')
  end
  return lines
end

function M.status()
  local bufnr = api.nvim_get_current_buf()
  local switches = require('enclave.toggle').describe(bufnr)
  local client = vim.lsp.get_clients({ bufnr = bufnr, name = 'enclave' })[1]
  if not client then
    notify(switches .. '\nno Enclave server is attached to this buffer', vim.log.levels.WARN)
    return
  end
  request(client, 'enclave/getStatus', {}, function(err, result)
    vim.schedule(function()
      if err or type(result) ~= 'table' then
        notify('enclave/getStatus failed: ' .. (err and err.message or 'no answer'), vim.log.levels.ERROR)
        return
      end
      notify(table.concat(vim.list_extend({ switches }, M.describe(result)), '\n'))
    end)
  end, bufnr)
end

local switch_verbs = { enable = true, disable = false, toggle = 'toggle' }
local scopes = { 'global', 'buffer', 'filetype' }

--- :Enclave {enable|disable|toggle} [global|buffer|filetype], :Enclave status, :Enclave restart
function M.enclave(opts)
  local verb, scope, extra = unpack(opts.fargs)
  verb = verb or 'status'
  if verb == 'status' and not scope then return M.status() end
  if verb == 'restart' and not scope then return require('enclave').restart() end
  local value = switch_verbs[verb]
  scope = scope or 'global'
  if value == nil or extra or not vim.tbl_contains(scopes, scope) then
    notify(('usage: :Enclave {enable|disable|toggle} [global|buffer|filetype] | status | restart'
      .. ' (got %q)'):format(opts.args), vim.log.levels.ERROR)
    return
  end
  if value == 'toggle' then value = nil end
  local ok, err = pcall(require('enclave.toggle').set, scope, value)
  if not ok then return notify(tostring(err), vim.log.levels.ERROR) end
  notify(require('enclave.toggle').describe(0))
end

function M.complete(arg_lead, cmdline)
  local words = vim.split(vim.trim(cmdline), '%s+')
  local n = #words + (cmdline:match('%s$') and 1 or 0)
  local list = {}
  if n == 2 then
    list = { 'enable', 'disable', 'toggle', 'status', 'restart' }
  elseif n == 3 and switch_verbs[words[2]] ~= nil then
    list = scopes
  end
  return vim.tbl_filter(function(c) return vim.startswith(c, arg_lead) end, list)
end

function M.create()
  local create = api.nvim_create_user_command
  create('Enclave', M.enclave, {
    nargs = '*',
    complete = M.complete,
    desc = 'Enclave: switch completions on/off (global, buffer, filetype), status, restart',
  })
  create('EnclaveExplain', M.explain, { range = true, desc = 'Enclave: explain the selected code' })
  create('EnclaveReview', M.review, { range = true, desc = 'Enclave: review the buffer or range' })
  create('EnclaveRefactor', M.refactor, {
    range = true,
    nargs = '*',
    desc = 'Enclave: code actions, or rewrite the range with an instruction',
  })
  create('EnclaveStatus', M.status, { desc = 'Enclave: show the server state' })
end

return M
