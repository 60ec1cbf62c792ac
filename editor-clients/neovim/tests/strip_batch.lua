-- nvim --clean -l tests/strip_batch.lua IN OUT: for each settings table in the JSON list IN,
-- config.without_user_only() and the keys config.strip_user_only() reports; JSON list to OUT.
local here = debug.getinfo(1, 'S').source:gsub('^@', '')
vim.opt.runtimepath:prepend(vim.fn.fnamemodify(here, ':p:h:h'))
local config = require('enclave.config')
local inputs = vim.json.decode(table.concat(vim.fn.readfile(arg[1]), '\n'))
local out = {}
for i, settings in ipairs(inputs) do
  out[i] = {
    stripped = config.without_user_only(settings),
    removed = config.strip_user_only(vim.deepcopy(settings)),
    input_unchanged = vim.deep_equal(settings, inputs[i]),
  }
end
vim.fn.writefile({ vim.json.encode(out) }, arg[2])
