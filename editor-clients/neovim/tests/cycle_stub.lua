-- Cycling, partial accepts, the <Plug> mappings and the :Enclave switches, against
-- tests/stub_server.py (no model). ENCLAVE_STUB_ITEMS gives one item to automatic requests and
-- several to invoked ones; the stub logs every request in ENCLAVE_STUB_LOG. Observations go to
-- the results; the assertions are in tests/editors/test_neovim.py.
local R = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:gsub('^@', '')) .. '/runner.lua')
local results, wait_for, keys = R.results, R.wait_for, R.keys
local api = vim.api

local function requests()
  local n = 0
  local f = io.open(assert(os.getenv('ENCLAVE_STUB_LOG')))
  if not f then return 0 end
  for line in f:lines() do
    if line:find('"inline"', 1, true) then n = n + 1 end
  end
  f:close()
  return n
end

local function ghost()
  local _, text = R.ghost_text(0)
  return text
end

local function wait_ghost(what, text)
  return wait_for(what, 10000, function() return ghost() == text end)
end

R.run(function()
  vim.cmd('filetype plugin on')
  vim.o.showmode = false
  local enclave = require('enclave')
  enclave.setup({
    cmd = vim.json.decode(assert(os.getenv('ENCLAVE_TEST_CMD'))),
    debounce_ms = 50,
  })
  -- The <Plug> mappings on keys of the user's choice.
  local plugs = {
    ['<C-g>a'] = 'accept', ['<C-g>w'] = 'accept-word', ['<C-g>l'] = 'accept-line',
    ['<C-g>n'] = 'next', ['<C-g>p'] = 'prev', ['<C-g>d'] = 'dismiss',
  }
  for lhs, name in pairs(plugs) do
    vim.keymap.set('i', lhs, ('<Plug>(enclave-%s)'):format(name))
  end

  local dir = vim.fn.getcwd()
  vim.cmd.edit(dir .. '/one.py')
  local buf = api.nvim_get_current_buf()
  wait_for('attach', 20000, function() return enclave.client(buf) end)
  api.nvim_buf_set_lines(buf, 0, -1, false, { 'x = 1', '' })
  api.nvim_win_set_cursor(0, { 2, 0 })
  keys('A')
  wait_for('insert', 5000, function() return api.nvim_get_mode().mode == 'i' end)

  -- Typing asks automatically: one item.
  keys('v')
  wait_ghost('automatic ghost', 'ONE')
  local seen = { ghost() }
  -- next with one item asks now (invoked) and shows the first item that differs.
  keys('<C-g>n')
  wait_for('invoked answer', 10000, function() return ghost() ~= 'ONE' end)
  seen[#seen + 1] = ghost()
  for _, k in ipairs({ '<C-g>n', '<C-g>n', '<C-g>n', '<C-g>p', '<C-g>p' }) do
    local before = ghost()
    keys(k)
    wait_for('cycle ' .. k, 5000, function() return ghost() ~= before end)
    seen[#seen + 1] = ghost()
  end
  results.cycle = { seen = seen, index = require('enclave.ghost').get(buf).index,
    count = require('enclave.ghost').get(buf).count }

  -- Partial accepts through the <Plug> mappings, on the item shown now.
  local pieces = {}
  for _, k in ipairs({ '<C-g>w', '<C-g>w', '<C-g>w', '<C-g>l' }) do
    local before = R.line(2) .. '|' .. ghost()
    keys(k)
    wait_for('accept ' .. k, 5000, function()
      return table.concat(api.nvim_buf_get_lines(buf, 1, -1, false), '\n') .. '|' .. ghost() ~= before
    end)
    pieces[#pieces + 1] = { buffer = table.concat(api.nvim_buf_get_lines(buf, 1, -1, false), '\n'),
      ghost = ghost() }
  end
  keys('<C-g>a')
  wait_for('accept rest', 5000, function() return ghost() == '' end)
  pieces[#pieces + 1] = { buffer = table.concat(api.nvim_buf_get_lines(buf, 1, -1, false), '\n'),
    ghost = ghost() }
  results.pieces = pieces

  -- dismiss through its <Plug>.
  keys('<C-g>n')
  wait_for('ghost for dismiss', 10000, function() return ghost() ~= '' end)
  keys('<C-g>d')
  wait_for('dismissed', 5000, function() return ghost() == '' end)
  R.normal()

  -- Switches. Each step: type in a buffer, wait past the debounce, count requests.
  local function typing_asks(b)
    api.nvim_set_current_buf(b)
    R.insert_on_empty_line(2)
    local before = requests()
    keys('y')
    R.sleep(600)
    local asked = requests() > before
    local shown = ghost() ~= ''
    R.normal()
    return asked, shown
  end
  vim.cmd.edit(dir .. '/two.py')
  local buf2 = api.nvim_get_current_buf()
  vim.cmd.edit(dir .. '/three.lua')
  local buf3 = api.nvim_get_current_buf()
  wait_for('attach all', 20000, function() return enclave.client(buf2) and enclave.client(buf3) end)

  local messages = R.capture_notify()
  local steps = {}
  local function step(name, command)
    if command then vim.cmd(command) end
    local row = { command = command, statusline = {} }
    for label, b in pairs({ one = buf, two = buf2, three = buf3 }) do
      row[label] = { typing_asks(b) }
      api.nvim_set_current_buf(b)
      row.statusline[label] = enclave.statusline()
    end
    row.message = messages[#messages]
    steps[name] = row
  end
  step('start')
  step('global_off', 'Enclave toggle')
  -- With completions off, <M-]> (next) falls back to its earlier mapping.
  vim.keymap.set('i', '<M-]>', '<lt>next>')
  api.nvim_set_current_buf(buf)
  R.insert_on_empty_line(2)
  keys('<M-]>')
  wait_for('next falls back', 5000, function() return R.line(2) == '<next>' end)
  R.normal()
  results.next_when_off = R.line(2)
  step('global_on', 'Enclave toggle global')
  api.nvim_set_current_buf(buf)
  step('buffer_off', 'Enclave toggle buffer')
  api.nvim_set_current_buf(buf2)
  step('filetype_off', 'Enclave disable filetype')
  api.nvim_set_current_buf(buf2)
  step('buffer_on_in_off_filetype', 'Enclave enable buffer')
  api.nvim_set_current_buf(buf2)
  step('filetype_on', 'Enclave toggle filetype')
  api.nvim_set_current_buf(buf)
  step('buffer_on', 'Enclave enable buffer')
  api.nvim_set_current_buf(buf3)
  step('buffer_disable', 'Enclave disable buffer')
  step('global_disable', 'Enclave disable global')
  step('global_enable', 'Enclave enable')
  api.nvim_set_current_buf(buf3)
  step('buffer_enable', 'Enclave enable buffer')

  -- A shown ghost goes away when completions are switched off.
  api.nvim_set_current_buf(buf)
  R.insert_on_empty_line(2)
  keys('<C-g>n')
  wait_for('ghost before switch', 10000, function() return ghost() ~= '' end)
  keys('<Cmd>Enclave disable<CR>')
  wait_for('ghost hidden by switch', 5000, function() return ghost() == '' end)
  R.normal()
  vim.cmd('Enclave enable')

  vim.cmd('Enclave status')
  wait_for('status message', 10000, function()
    return (messages[#messages] or ''):find('state: ready', 1, true) ~= nil
  end)
  results.status_message = messages[#messages]
  -- Errors go through vim.notify (raised in a headless session: caught here).
  local ok, err = pcall(vim.cmd, 'Enclave toggle nowhere')
  results.bad_usage = { ok = ok, message = messages[#messages], err = tostring(err) }
  results.completion = vim.fn.getcompletion('Enclave ', 'cmdline')
  results.completion_scope = vim.fn.getcompletion('Enclave toggle ', 'cmdline')
  results.steps_switch = steps

  -- :Enclave restart: a new server process serves every buffer the old one served.
  local function served()
    local ids = {}
    for _, b in ipairs({ buf, buf2, buf3 }) do
      local c = enclave.client(b)
      ids[#ids + 1] = c and not c:is_stopped() and c.id or false
    end
    return ids
  end
  local old = served()
  vim.cmd('Enclave restart')
  wait_for('restarted', 20000, function()
    local ids = served()
    return ids[1] and ids[1] ~= old[1] and ids[1] == ids[2] and ids[2] == ids[3]
  end)
  -- The new server answers (the stub logs which process did).
  api.nvim_set_current_buf(buf)
  R.insert_on_empty_line(2)
  keys('<C-g>n')
  wait_for('ghost after restart', 10000, function() return ghost() ~= '' end)
  R.normal()
  results.restart = {
    old = old, new = served(),
    old_stopped = vim.lsp.get_client_by_id(old[1]) == nil
      or vim.lsp.get_client_by_id(old[1]):is_stopped(),
  }
  results.g = { enabled = vim.g.enclave_enabled, filetypes = vim.g.enclave_filetypes }
end)
