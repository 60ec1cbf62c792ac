-- The real nvim-cmp and LuaSnip beside Enclave (tests/stub_server.py, no model); their
-- checkouts are $ENCLAVE_NVIM_CMP and $ENCLAVE_LUASNIP. $ENCLAVE_CMP_MODE chooses the setup:
--   default: Enclave's default keys, and nvim-cmp's usual "super Tab" (its wiki's mapping:
--            the menu's next item, else LuaSnip's next placeholder, else fallback);
--   recipe:  :help enclave-cmp, `keymaps = { accept = false }` and its Tab mapping.
-- Each case presses Tab once on line 2 and records the line, the cursor and what is left
-- shown; the assertions are in tests/editors/test_neovim.py.
local R = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:gsub('^@', '')) .. '/runner.lua')
local results, wait_for, keys = R.results, R.wait_for, R.keys
local api = vim.api
local mode = assert(os.getenv('ENCLAVE_CMP_MODE'), 'ENCLAVE_CMP_MODE')
vim.opt.runtimepath:prepend(assert(os.getenv('ENCLAVE_NVIM_CMP'), 'ENCLAVE_NVIM_CMP'))
vim.opt.runtimepath:prepend(assert(os.getenv('ENCLAVE_LUASNIP'), 'ENCLAVE_LUASNIP'))
vim.cmd('runtime! plugin/cmp.lua')

local function press(name, prepare, done)
  R.tab_case(name, prepare, done, function() return { menu_left = require('cmp').visible() } end)
end

local function open_menu(typed)
  if typed ~= '' then
    keys(typed)
    wait_for('typed', 2000, function() return R.line(2) == typed end)
  end
  require('cmp').complete()
  wait_for('menu', 5000, function() return require('cmp').visible() end)
end

R.run(function()
  R.tab_baseline(press)

  local cmp, luasnip = require('cmp'), require('luasnip')
  -- A source with two fixed items: what a user's sources would list.
  cmp.register_source('fixed', {
    complete = function(_, _, callback)
      callback({ { label = 'alpha' }, { label = 'alps' } })
    end,
  })
  local tab
  if mode == 'recipe' then
    tab = function(fallback) -- :help enclave-cmp
      if cmp.visible() then cmp.select_next_item()
      elseif require('enclave').accept() then return
      else fallback() end
    end
  else
    tab = function(fallback) -- nvim-cmp's wiki, "super Tab" with LuaSnip
      if cmp.visible() then cmp.select_next_item()
      elseif luasnip.locally_jumpable(1) then luasnip.jump(1)
      else fallback() end
    end
  end
  cmp.setup({
    snippet = { expand = function(args) luasnip.lsp_expand(args.body) end },
    completion = { autocomplete = false }, -- the menu opens when the case asks (<C-Space>)
    sources = { { name = 'fixed' } },
    mapping = { ['<Tab>'] = cmp.mapping(tab, { 'i', 's' }) },
  })
  R.beside_plugin(mode, press)
  press('menu', function() open_menu('al') end, function() return R.line(2) ~= 'al' end)
  -- The menu opened where a suggestion is shown (nothing typed: it stays shown).
  press('menu_over_suggestion', function()
    R.ask_ghost()
    open_menu('')
    results.ghost_with_menu = R.has_ghost(0)
  end)
  if mode == 'default' then
    -- A snippet's placeholders: Tab jumps to the next one (the suggestion waits).
    press('snippet', function()
      luasnip.lsp_expand('first(${1:one}, ${2:two})')
      wait_for('snippet', 2000, function() return R.line(2) == 'first(one, two)' end)
    end, function() return api.nvim_win_get_cursor(0)[2] >= #'first(one, ' end)
  end
  results.tab_mapping = vim.fn.maparg('<Tab>', 'i', false, true).desc or ''
end)
