-- Ghost text behaviour against the server with its scripted fake engine (no model, seconds):
-- next (request now), dismiss, typing what the ghost shows, accept word (twice), accept line,
-- accept, all with the default keys.
-- Env as in e2e.lua, plus ENCLAVE_FAKE_MODEL (the fake engine's script) and
-- ENCLAVE_TEST_MODEL_PATH (a file that passes the server's GGUF check).
local R = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:gsub('^@', '')) .. '/runner.lua')
local results, wait_for, keys = R.results, R.wait_for, R.keys

R.run(function()
  local enclave = require('enclave')
  local ghost = require('enclave.ghost')
  local setup = {
    settings = { model = { path = assert(os.getenv('ENCLAVE_TEST_MODEL_PATH')) } },
    debounce_ms = 1500, -- long: the steps below run inside it
  }
  local cmd_json = os.getenv('ENCLAVE_TEST_CMD')
  if cmd_json and cmd_json ~= '' then setup.cmd = vim.json.decode(cmd_json) end
  enclave.setup(setup)
  vim.cmd.edit(vim.fn.fnameescape((assert(R.file, 'ENCLAVE_TEST_FILE'))))
  local bufnr = vim.api.nvim_get_current_buf()
  wait_for('attach', 20000, function() return enclave.client(bufnr) end)
  wait_for('ready', 30000, function()
    local st = enclave.status(bufnr)
    return st and st.state == 'ready'
  end)
  local row = 2 -- "    " in an empty function body
  vim.api.nvim_win_set_cursor(0, { row, 0 })
  keys('A')
  wait_for('insert mode', 5000, function() return vim.api.nvim_get_mode().mode == 'i' end)

  -- next: asks at once (no typing needed).
  keys('<M-]>')
  wait_for('ghost after next', 20000, function() return R.has_ghost(bufnr) end)
  local _, first = R.ghost_text(bufnr)
  results.first = { text = first, virt_lines = select(2, first:gsub('\n', '')) }

  -- dismiss.
  keys('<C-]>')
  wait_for('dismissed', 5000, function() return not R.has_ghost(bufnr) end)

  -- Typing the ghost's first character keeps the rest shown (before any new answer).
  keys('<M-]>')
  wait_for('ghost again', 20000, function() return R.has_ghost(bufnr) end)
  local char = first:sub(1, 1)
  keys(char)
  wait_for('typed ahead', 1000, function()
    local _, t = R.ghost_text(bufnr)
    return R.line(row) == '    ' .. char and t == first:sub(2)
  end)

  -- accept word (<M-Right>): the rest of the word, then the next word with its space.
  keys('<M-Right>')
  wait_for('accept word', 5000, function() return R.line(row) ~= '    ' .. char end)
  local _, after_word = R.ghost_text(bufnr)
  results.after_word = { line = R.line(row), ghost = after_word }
  keys('<M-Right>')
  wait_for('accept word 2', 5000, function() return R.line(row) ~= results.after_word.line end)
  results.after_word2 = { line = R.line(row) }

  -- accept line (<M-C-Right>): the rest of the first line goes in, the others stay shown.
  keys('<M-C-Right>')
  local first_line = first:match('^[^\n]*')
  wait_for('accept line', 5000, function() return R.line(row) == '    ' .. first_line end)
  local _, rest = R.ghost_text(bufnr)
  results.after_line = { line = R.line(row), ghost = rest, cursor = vim.api.nvim_win_get_cursor(0) }

  -- accept: everything else.
  keys('<Tab>')
  wait_for('accept', 5000, function() return not R.has_ghost(bufnr) and R.line(row + 1) ~= nil end)
  results.buffer = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n')
  results.cursor = vim.api.nvim_win_get_cursor(0)
  results.expected = '    ' .. first
  results.statusline = enclave.statusline()
  results.suggestion_left = ghost.get(bufnr) ~= nil
  keys('<Esc>')
  wait_for('normal mode', 5000, function() return vim.api.nvim_get_mode().mode == 'n' end)
  vim.cmd.write()
end)
