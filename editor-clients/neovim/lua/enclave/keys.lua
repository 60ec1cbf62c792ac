--- Insert-mode keys: the <Plug>(enclave-*) mappings, and the default keys set buffer-local in
--- attached buffers. A default key that has nothing to do (no suggestion, completions off, the
--- popup menu open) runs what the key did before Enclave mapped it: the buffer-local mapping it
--- replaced, else the global mapping of that key at the time of the press, else the key itself.
--- The earlier mapping runs from an exact copy (mapset()) under a <Plug> name, so expr, <SID>,
--- noremap and Lua callbacks behave as they did.
local M = {}

local api = vim.api

--- Action names, their <Plug> names and descriptions.
M.actions = {
  { 'accept', 'enclave-accept', 'accept the suggestion' },
  { 'accept_word', 'enclave-accept-word', 'accept the next word of the suggestion' },
  { 'accept_line', 'enclave-accept-line', 'accept the next line of the suggestion' },
  { 'next', 'enclave-next', 'next suggestion (asks now when none is shown)' },
  { 'prev', 'enclave-prev', 'previous suggestion (asks now when none is shown)' },
  { 'dismiss', 'enclave-dismiss', 'dismiss the suggestion' },
}

local function act(name)
  return require('enclave.actions')[name]
end

--- Define the <Plug>(enclave-*) insert-mode mappings (idempotent).
function M.plugs()
  for _, a in ipairs(M.actions) do
    local name = a[1]
    vim.keymap.set('i', ('<Plug>(%s)'):format(a[2]), function() act(name)() end,
      { desc = 'Enclave: ' .. a[3], silent = true })
  end
end

-- -- default keys with fallback ---------------------------------------------------------

--- Per buffer: { [raw lhs] = { lhs, plug = <Plug> copy of the replaced buffer mapping or nil } }
local mapped = {}
--- Our own mapping callbacks, so that a mapping of ours is never taken for an earlier one.
local ours = setmetatable({}, { __mode = 'k' })
local counter = 0

local function find(maps, raw)
  for _, m in ipairs(maps) do
    if m.lhsraw == raw or m.lhsrawalt == raw then return m end
  end
end

--- A copy of mapping `m` under a fresh <Plug> name, buffer-local in `bufnr` or global.
local function copy(m, bufnr)
  counter = counter + 1
  local plug = ('<Plug>(enclave-fallback-%d)'):format(counter)
  local d = vim.deepcopy(m)
  d.lhs, d.lhsraw, d.lhsrawalt = plug, vim.keycode(plug), nil
  d.buffer = bufnr and 1 or 0
  if bufnr then
    api.nvim_buf_call(bufnr, function() vim.fn.mapset('i', false, d) end)
  else
    vim.fn.mapset('i', false, d)
  end
  return plug
end

local global_copies = {} -- [raw lhs] = { m = mapping dict, plug = name }

local function same_mapping(a, b)
  return a.rhs == b.rhs and a.callback == b.callback and a.expr == b.expr
    and a.noremap == b.noremap and a.sid == b.sid and a.script == b.script
end

--- The <Plug> copy of the global mapping of `raw` now, or nil when there is none.
local function global_fallback(raw)
  local m = find(api.nvim_get_keymap('i'), raw)
  if not m or (m.callback and ours[m.callback]) then return nil end
  local c = global_copies[raw]
  if not (c and same_mapping(c.m, m)) then
    c = { m = m, plug = copy(m, nil) }
    global_copies[raw] = c
  end
  return c.plug
end

--- Do what `lhs` did before Enclave mapped it in `bufnr`.
function M.fallback(bufnr, raw)
  local entry = (mapped[bufnr] or {})[raw]
  local plug = entry and entry.plug or global_fallback(raw)
  if plug then
    api.nvim_feedkeys(vim.keycode(plug), 'im', false)
  else
    api.nvim_feedkeys(raw, 'in', false)
  end
end

--- Map `lhs` in insert mode, buffer-local in `bufnr`: `action()` returns true when it did
--- something; otherwise the key falls back (M.fallback).
function M.map(bufnr, lhs, action, desc)
  local raw = vim.keycode(lhs)
  mapped[bufnr] = mapped[bufnr] or {}
  local entry = mapped[bufnr][raw]
  if not entry then
    entry = { lhs = lhs }
    local existing = find(api.nvim_buf_get_keymap(bufnr, 'i'), raw)
    if existing and not (existing.callback and ours[existing.callback]) then
      entry.plug = copy(existing, bufnr)
      entry.original = existing
    end
    mapped[bufnr][raw] = entry
  end
  local function callback()
    -- Keys belong to the popup menu while it is open.
    if vim.fn.pumvisible() == 0 and action() then return end
    M.fallback(bufnr, raw)
  end
  ours[callback] = true
  vim.keymap.set('i', lhs, callback, { buffer = bufnr, desc = desc, silent = true })
end

--- Remove Enclave's keys from `bufnr` and put back the buffer-local mappings they replaced.
function M.unmap(bufnr)
  local entries = mapped[bufnr]
  mapped[bufnr] = nil
  if not entries or not api.nvim_buf_is_valid(bufnr) then return end
  for _, entry in pairs(entries) do
    pcall(vim.keymap.del, 'i', entry.lhs, { buffer = bufnr })
    if entry.original then
      api.nvim_buf_call(bufnr, function() vim.fn.mapset('i', false, entry.original) end)
      pcall(vim.keymap.del, 'i', entry.plug, { buffer = bufnr })
    end
  end
end

--- Set the configured default keys (options.keymaps) in `bufnr`.
function M.attach(bufnr, keymaps)
  for _, a in ipairs(M.actions) do
    local name, lhs = a[1], keymaps[a[1]]
    if lhs then M.map(bufnr, lhs, function() return act(name)() end, 'Enclave: ' .. a[3]) end
  end
end

return M
