-- Shared by the headless test scripts: a coroutine that yields to Neovim's main loop between
-- polls (vim.wait() alone would not run typed keys or insert-mode autocommands), results
-- written as JSON to $ENCLAVE_TEST_OUT, exit with `cq` on failure.
local R = { results = { steps = {} } }
local co

-- Without ENCLAVE_NVIM_PLUGIN the plugin must already be installed (tests/install_check.lua).
R.plugin = os.getenv('ENCLAVE_NVIM_PLUGIN')
R.file = os.getenv('ENCLAVE_TEST_FILE')
R.out = assert(os.getenv('ENCLAVE_TEST_OUT'), 'ENCLAVE_TEST_OUT')
if R.plugin and R.plugin ~= '' then vim.opt.runtimepath:prepend(R.plugin) end

function R.finish(code)
  local f = assert(io.open(R.out, 'w'))
  f:write(vim.json.encode(R.results))
  f:close()
  vim.cmd(code == 0 and 'qall!' or ('cquit! ' .. code))
end

--- Yield to the main loop for `ms`.
function R.sleep(ms)
  vim.defer_fn(function()
    local ok, err = coroutine.resume(co)
    if not ok then
      R.results.error = tostring(err)
      R.finish(2)
    end
  end, ms)
  coroutine.yield()
end

--- Poll `cond` every 50 ms until it returns a truthy value (returned) or `timeout_ms` passes.
function R.wait_for(what, timeout_ms, cond)
  local start = vim.uv.now()
  while true do
    local value = cond()
    if value then
      R.results.steps[#R.results.steps + 1] = { step = what, ms = vim.uv.now() - start }
      return value
    end
    if vim.uv.now() - start > timeout_ms then
      error(('timed out after %d ms waiting for %s'):format(timeout_ms, what), 0)
    end
    R.sleep(50)
  end
end

--- Type keys as a user would (mappings apply).
function R.keys(k)
  vim.api.nvim_feedkeys(vim.keycode(k), 'm', false)
end

--- Number of ghost extmarks in `bufnr` and their text (virtual lines joined with "\n").
function R.ghost_text(bufnr)
  local ns = require('enclave.ghost').ns
  local marks = vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })
  local parts = {}
  for _, m in ipairs(marks) do
    local d = m[4]
    for _, chunk in ipairs(d.virt_text or {}) do parts[#parts + 1] = chunk[1] end
    for _, line in ipairs(d.virt_lines or {}) do
      parts[#parts + 1] = '\n'
      for _, chunk in ipairs(line) do parts[#parts + 1] = chunk[1] end
    end
  end
  return #marks, table.concat(parts)
end

function R.has_ghost(bufnr)
  local n, text = R.ghost_text(bufnr)
  return n > 0 and text ~= ''
end

--- Messages given to vim.notify from now on (still shown).
function R.capture_notify()
  local messages = {}
  local orig = vim.notify
  vim.notify = function(msg, ...)
    messages[#messages + 1] = tostring(msg)
    return orig(msg, ...)
  end
  return messages
end

--- Empty line `row` of the current buffer (below `x = 1` lines above it) and start insert
--- mode at its end; R.normal() leaves it.
function R.insert_on_empty_line(row)
  vim.api.nvim_buf_set_lines(0, row - 1, row, false, { '' })
  vim.api.nvim_win_set_cursor(0, { row, 0 })
  R.keys('A')
  R.wait_for('insert mode', 5000, function() return vim.api.nvim_get_mode().mode == 'i' end)
end

function R.normal()
  R.keys('<Esc>')
  R.wait_for('normal mode', 5000, function() return vim.api.nvim_get_mode().mode == 'n' end)
end

function R.line(row)
  return vim.api.nvim_buf_get_lines(0, row - 1, row, false)[1]
end

--- Press Tab on an empty line 2 after `prepare()` (run in insert mode); once `done()` holds
--- (or after 2 s) record under results.cases[name] the line, the cursor's column, whether a
--- suggestion is left shown, and the fields `extra()` returns (the other plugins' tests).
function R.tab_case(name, prepare, done, extra)
  R.insert_on_empty_line(2)
  prepare()
  R.keys('<Tab>')
  pcall(R.wait_for, 'tab ' .. name, 2000, done or function() return R.line(2) ~= '' end)
  local case = extra and extra() or {}
  case.line, case.col = R.line(2), vim.api.nvim_win_get_cursor(0)[2]
  case.ghost_left = R.has_ghost(0)
  R.results.cases = R.results.cases or {}
  R.results.cases[name] = case
  R.normal()
end

--- What Tab does in a Python buffer before any plugin is set up (the ftplugin's indent).
function R.tab_baseline(press)
  vim.cmd('filetype plugin on')
  vim.cmd('enew | setlocal buftype=nofile | setfiletype python')
  vim.api.nvim_buf_set_lines(0, 0, -1, false, { 'x = 1', '' })
  press('baseline', function() end)
end

--- Enclave beside another plugin's Tab: setup() against the stub server with suggestions only
--- when asked (<M-]>), the accept key left to the plugin in `mode` "recipe"; a Python buffer
--- attached. Then Tab with nothing shown, and with a suggestion shown.
function R.beside_plugin(mode, press)
  local enclave = require('enclave')
  enclave.setup({
    cmd = vim.json.decode(assert(os.getenv('ENCLAVE_TEST_CMD'))),
    auto_trigger = false,
    keymaps = mode == 'recipe' and { accept = false } or nil,
  })
  vim.cmd.edit(vim.fn.fnameescape(vim.fn.getcwd() .. '/case.py'))
  local buf = vim.api.nvim_get_current_buf()
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { 'x = 1', '' })
  R.wait_for('attach', 20000, function() return enclave.client(buf) end)
  press('nothing', function() end)
  press('suggestion', R.ask_ghost, function() return R.line(2) == 'SUGGESTED' end)
end

--- Ask for a suggestion (<M-]>) and wait until it shows.
function R.ask_ghost()
  R.keys('<M-]>')
  R.wait_for('ghost', 10000, function() return R.has_ghost(0) end)
end

--- Run `main` in the coroutine; any error is recorded and exits with code 1.
function R.run(main)
  co = coroutine.create(function()
    local ok, err = xpcall(main, debug.traceback)
    if not ok then
      R.results.error = tostring(err)
      R.finish(1)
    else
      R.finish(0)
    end
  end)
  vim.schedule(function() coroutine.resume(co) end)
end

return R
