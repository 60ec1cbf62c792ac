--- Ghost text for Neovim without vim.lsp.inline_completion (0.10, 0.11): requests
--- textDocument/inlineCompletion while typing (debounced, latest wins) and shows the suggestion
--- with an extmark: inline virtual text for its first line, virtual lines for the rest.
local status = require('enclave.status')
local accepted = require('enclave.accepted')

local M = {}

local api = vim.api
local uv = vim.uv or vim.loop
local has_011 = vim.fn.has('nvim-0.11') == 1

M.ns = api.nvim_create_namespace('enclave.ghost')
M.hl = 'EnclaveSuggestion'

local TRIGGER_INVOKED, TRIGGER_AUTOMATIC = 1, 2

--- Per buffer: { opts, timer, req = {client, id}, ghost = {...}, own_tick, typed_ahead }
local states = {}
--- The accepted-command record (accepted.source) of each item shown, server's or derived (the
--- rest after a partial accept or typing ahead shares its origin's record).
local sources = setmetatable({}, { __mode = 'k' })

local function client_of(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr, name = 'enclave' })[1]
end

local function send(client, method, params, handler, bufnr)
  if has_011 then return client:request(method, params, handler, bufnr) end
  return client.request(method, params, handler, bufnr)
end

local function cancel_request(client, id)
  if has_011 then return client:cancel_request(id) end
  return client.cancel_request(id)
end

--- Byte column of an LSP `character` on line `row` (0-based) in the client's encoding.
local function byte_col(bufnr, row, character, encoding)
  local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  if encoding == 'utf-8' then return math.min(character, #line) end
  local ok, col
  if has_011 then
    ok, col = pcall(vim.str_byteindex, line, encoding, character, false)
  else
    ok, col = pcall(vim.str_byteindex, line, character, encoding == 'utf-16')
  end
  return ok and col or #line
end

local function cursor()
  local pos = api.nvim_win_get_cursor(0)
  return pos[1] - 1, pos[2]
end

local function in_insert()
  return api.nvim_get_mode().mode:sub(1, 1) == 'i'
end

-- -- drawing -----------------------------------------------------------------------------

local function draw(bufnr, ghost)
  local lines = vim.split(ghost.display, '\n', { plain = true })
  local opts = {
    id = ghost.mark,
    virt_text = { { lines[1], M.hl } },
    virt_text_pos = 'inline',
    hl_mode = 'combine',
    priority = 200,
  }
  if #lines > 1 then
    opts.virt_lines = {}
    for i = 2, #lines do
      -- Tabs in virtual lines are not expanded; show them as the buffer would.
      local text = lines[i]:gsub('\t', string.rep(' ', vim.bo[bufnr].tabstop))
      opts.virt_lines[#opts.virt_lines + 1] = { { text, M.hl } }
    end
  end
  ghost.mark = api.nvim_buf_set_extmark(bufnr, M.ns, ghost.row, ghost.col, opts)
end

function M.clear(bufnr)
  bufnr = bufnr == 0 and api.nvim_get_current_buf() or bufnr
  local state = states[bufnr]
  if state then state.ghost = nil end
  if api.nvim_buf_is_valid(bufnr) then api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1) end
end

--- Stop the debounce timer and cancel the request in flight.
function M.cancel(bufnr)
  local state = states[bufnr]
  if not state then return end
  if state.timer then state.timer:stop() end
  local req = state.req
  state.req = nil
  if req then
    status.set_pending(-1)
    if not req.client:is_stopped() then pcall(cancel_request, req.client, req.id) end
  end
end

-- -- suggestions -----------------------------------------------------------------------

local function item_text(item)
  local text = item.insertText
  if type(text) == 'table' then text = text.value end -- a snippet StringValue: raw text
  return type(text) == 'string' and text or nil
end

--- What an item shows at the cursor, and the range it replaces on accept; nil if it does not fit.
local function fit(bufnr, row, col, item, encoding)
  local text = item_text(item)
  if not text or text == '' then return nil end
  local g = { row = row, col = col, text = text, srow = row, scol = col, erow = row, ecol = col }
  g.item = item
  if item.range then
    local s, e = item.range.start, item.range['end']
    g.srow, g.scol = s.line, byte_col(bufnr, s.line, s.character, encoding)
    g.erow, g.ecol = e.line, byte_col(bufnr, e.line, e.character, encoding)
  end
  if g.srow ~= row or g.scol > col or g.erow < row or (g.erow == row and g.ecol < col) then
    return nil
  end
  -- The part of the suggestion before the cursor must be what is typed there.
  local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  local typed = line:sub(g.scol + 1, col)
  if text:sub(1, #typed) ~= typed then return nil end
  g.display = text:sub(#typed + 1)
  if g.display == '' then return nil end
  return g
end

--- An item showing `rest`, the end of the item of ghost `g`, with the same origin.
local function derived(g, rest)
  local item = { insertText = rest }
  sources[item] = sources[g.item]
  return item
end

--- Show the first item that fits at the cursor, from `index` on in direction `step` (1 or -1).
local function show(bufnr, state, index, step)
  local row, col = cursor()
  local n = #state.items
  step = step or 1
  for k = 0, n - 1 do
    local i = (index - 1 + k * step) % n + 1
    local g = fit(bufnr, row, col, state.items[i], state.encoding)
    if g then
      M.clear(bufnr)
      g.index, g.count = i, n
      state.ghost = g
      draw(bufnr, g)
      return true
    end
  end
  M.clear(bufnr)
  return false
end

--- Where to start showing a new answer: after next/previous asked with a suggestion shown,
--- the first item (in that direction) that shows something else.
local function first_index(bufnr, state, cyc)
  local n = #state.items
  if not cyc then return 1, 1 end
  local start = cyc.step < 0 and n or 1
  if cyc.from and n > 1 then
    local row, col = cursor()
    for k = 0, n - 1 do
      local i = (start - 1 + k * cyc.step) % n + 1
      local g = fit(bufnr, row, col, state.items[i], state.encoding)
      if g and g.display ~= cyc.from then return i, cyc.step end
    end
  end
  return start, cyc.step
end

--- Ask the server for a suggestion at the cursor now (cancelling the previous request).
function M.request(bufnr, trigger_kind)
  bufnr = bufnr == 0 and api.nvim_get_current_buf() or bufnr
  local state = states[bufnr]
  if not state or bufnr ~= api.nvim_get_current_buf() or not in_insert() then return end
  if not require('enclave.toggle').enabled(bufnr) then return end
  local client = client_of(bufnr)
  if not client then return end
  M.cancel(bufnr)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.context = { triggerKind = trigger_kind or TRIGGER_AUTOMATIC }
  local row, col = cursor()
  local tick = api.nvim_buf_get_changedtick(bufnr)
  local req = { client = client }
  local ok, id = send(client, 'textDocument/inlineCompletion', params, function(err, result)
    if state.req ~= req then return end -- cancelled or superseded
    state.req = nil
    status.set_pending(-1)
    vim.schedule(function()
      if err or not api.nvim_buf_is_valid(bufnr) or bufnr ~= api.nvim_get_current_buf() then
        return
      end
      local r, c = cursor()
      if api.nvim_buf_get_changedtick(bufnr) ~= tick or r ~= row or c ~= col or not in_insert() then
        return -- stale: the buffer or the cursor moved meanwhile
      end
      local items = result and (result.items or result) or {}
      local cyc = state.cycle
      state.cycle = nil
      if type(items) ~= 'table' or #items == 0 then
        M.clear(bufnr)
        return
      end
      state.items, state.encoding = items, client.offset_encoding
      for _, item in ipairs(items) do
        local text = item_text(item)
        sources[item] = text and accepted.source(item, text, client) or nil
      end
      show(bufnr, state, first_index(bufnr, state, cyc))
    end)
  end, bufnr)
  if ok and id then
    req.id = id
    state.req = req
    status.set_pending(1)
  end
end

--- Request after the debounce delay (restarting it).
function M.schedule(bufnr)
  local state = states[bufnr]
  if not state then return end
  state.timer = state.timer or uv.new_timer()
  state.timer:stop()
  state.timer:start(state.opts.debounce_ms, 0, vim.schedule_wrap(function()
    M.request(bufnr, TRIGGER_AUTOMATIC)
  end))
end

--- The suggestion shown in `bufnr`: { text, display, row, col, index, count } or nil.
function M.get(bufnr)
  bufnr = bufnr == 0 and api.nvim_get_current_buf() or bufnr
  local state = states[bufnr]
  return state and state.ghost or nil
end

function M.visible(bufnr)
  return M.get(bufnr or 0) ~= nil
end

local function set_text(bufnr, srow, scol, erow, ecol, text)
  local lines = vim.split(text, '\n', { plain = true })
  api.nvim_buf_set_text(bufnr, srow, scol, erow, ecol, lines)
  local end_row = srow + #lines - 1
  local end_col = (#lines == 1 and scol or 0) + #lines[#lines]
  api.nvim_win_set_cursor(0, { end_row + 1, end_col })
  return end_row, end_col
end

local function resolve(bufnr)
  return (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
end

--- Run `edit` now, or just after the expr mapping that called us (text is locked there).
local function run_edit(edit)
  local ok, err = pcall(edit)
  if ok then return end
  if tostring(err):find('E565', 1, true) then
    vim.schedule(edit)
  else
    error(err, 0)
  end
end

--- The next piece of `display` to accept: a word (what separates it, then its letters, digits,
--- underscores or non-ASCII characters; a line break and the indent after it count as
--- separation) or a line (up to the end of the next non-empty line).
function M.piece(display, kind)
  if kind == 'word' then return display:match('^\n?[^%w_\128-\255\n]*[%w_\128-\255]*') end
  return display:match('^\n*[^\n]*')
end

--- Insert the whole suggestion (replacing the item's range) and move the cursor to its end.
--- Returns false when nothing is shown.
function M.accept(bufnr)
  bufnr = resolve(bufnr)
  local state, g = states[bufnr], M.get(bufnr)
  if not g then return false end
  run_edit(function()
    M.cancel(bufnr)
    M.clear(bufnr)
    set_text(bufnr, g.srow, g.scol, g.erow, g.ecol, g.text)
    state.own_tick = api.nvim_buf_get_changedtick(bufnr)
    local src = sources[g.item]
    if src then accepted.report(src, src.chars, bufnr) end
  end)
  return true
end

--- Insert the next word or line (`kind`) of the suggestion; keep showing the rest.
local function accept_piece(bufnr, kind)
  bufnr = resolve(bufnr)
  local state, g = states[bufnr], M.get(bufnr)
  if not g then return false end
  local part = M.piece(g.display, kind)
  local rest = g.display:sub(#part + 1)
  -- An item that replaces text after the cursor goes in whole.
  if rest == '' or g.erow ~= g.row or g.ecol ~= g.col then return M.accept(bufnr) end
  run_edit(function()
    M.cancel(bufnr)
    M.clear(bufnr)
    set_text(bufnr, g.row, g.col, g.row, g.col, part)
    state.own_tick = api.nvim_buf_get_changedtick(bufnr)
    state.items, state.encoding = { derived(g, rest) }, 'utf-8'
    show(bufnr, state, 1)
    -- What the item had before the rest is in now (typed through or accepted).
    local src = sources[g.item]
    if src then accepted.report(src, src.chars - accepted.chars(rest), bufnr) end
  end)
  return true
end

function M.accept_word(bufnr)
  return accept_piece(bufnr, 'word')
end

function M.accept_line(bufnr)
  return accept_piece(bufnr, 'line')
end

--- Show the next (`step` 1) or previous (-1) item of the last answer; with one item or none,
--- ask now (an invoked request) and show the first item that differs from the one shown.
local function cycle(bufnr, step)
  bufnr = resolve(bufnr)
  local state, g = states[bufnr], M.get(bufnr)
  if not state then return false end
  if g and state.items and #state.items > 1 then return show(bufnr, state, g.index + step, step) end
  M.request(bufnr, TRIGGER_INVOKED)
  if not state.req then return false end
  state.cycle = { step = step, from = g and g.display }
  return true
end

function M.next(bufnr)
  return cycle(bufnr, 1)
end

function M.prev(bufnr)
  return cycle(bufnr, -1)
end

--- Hide the suggestion and cancel any request. Returns false when there was nothing to do.
function M.dismiss(bufnr)
  bufnr = resolve(bufnr)
  local state = states[bufnr]
  local had = state ~= nil and (state.ghost ~= nil or state.req ~= nil)
  M.cancel(bufnr)
  M.clear(bufnr)
  return had
end

-- -- events ----------------------------------------------------------------------------

local function on_char(bufnr)
  local state, g = states[bufnr], M.get(bufnr)
  local char = vim.v.char
  if g and char ~= '' and g.display:sub(1, #char) == char and #g.display > #char
    and not char:find('\n') then
    local rest = g.display:sub(#char + 1)
    state.typed_ahead = { item = derived(g, rest), row = g.row, col = g.col + #char }
  else
    state.typed_ahead = nil
  end
  M.cancel(bufnr)
  M.clear(bufnr)
end

local function on_changed(bufnr)
  local state = states[bufnr]
  if api.nvim_buf_get_changedtick(bufnr) == state.own_tick then return end
  local ahead = state.typed_ahead
  state.typed_ahead = nil
  if ahead then
    -- Typed what the ghost showed: keep showing the rest until the new answer arrives.
    local row, col = cursor()
    if row == ahead.row and col == ahead.col then
      state.items, state.encoding = { ahead.item }, 'utf-8'
      show(bufnr, state, 1)
    end
  end
  if state.opts.auto_trigger then M.schedule(bufnr) end
end

local function on_moved(bufnr)
  local g = M.get(bufnr)
  if not g then return end
  local row, col = cursor()
  if row ~= g.row or col ~= g.col then M.dismiss(bufnr) end
end

--- Start ghost text in `bufnr`. opts: { auto_trigger, debounce_ms }.
function M.attach(bufnr, opts)
  if states[bufnr] then
    states[bufnr].opts = opts
    return
  end
  states[bufnr] = { opts = opts }
  api.nvim_set_hl(0, M.hl, { link = 'Comment', default = true })
  local group = api.nvim_create_augroup('enclave.ghost.' .. bufnr, { clear = true })
  local function on(event, fn)
    api.nvim_create_autocmd(event, {
      group = group,
      buffer = bufnr,
      callback = function()
        if states[bufnr] then fn(bufnr) end
      end,
    })
  end
  on('InsertCharPre', on_char)
  on('TextChangedI', on_changed)
  on('CursorMovedI', on_moved)
  -- The popup menu owns the keys while it is open: no ghost text beside it.
  on({ 'InsertLeave', 'BufLeave', 'CompleteChanged' }, M.dismiss)
  on({ 'BufUnload', 'BufWipeout' }, M.detach)
end

function M.detach(bufnr)
  local state = states[bufnr]
  if not state then return end
  M.cancel(bufnr)
  if state.timer and not state.timer:is_closing() then state.timer:close() end
  M.clear(bufnr)
  states[bufnr] = nil
  pcall(api.nvim_del_augroup_by_name, 'enclave.ghost.' .. bufnr)
end

function M.attached(bufnr)
  return states[bufnr] ~= nil
end

return M
