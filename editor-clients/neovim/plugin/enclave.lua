-- Commands (:Enclave, :EnclaveExplain, ...) and <Plug>(enclave-*) mappings, defined at startup
-- so that vim.lsp.enable('enclave') works without require('enclave').setup(). Nothing starts
-- here: a server starts from setup() or vim.lsp.enable('enclave').
if vim.g.loaded_enclave or vim.fn.has('nvim-0.10') == 0 then return end
vim.g.loaded_enclave = true
require('enclave').define()
