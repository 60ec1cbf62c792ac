; Capability uses in Rust. The capture names are those of python.scm and go.scm; @import.use is
; a whole `use` tree (lists and renames inside it are read by the code), @macro a macro's name.

(identifier) @ref
(scoped_identifier) @chain
(scoped_type_identifier) @chain
(field_expression) @chain
(call_expression function: (_) @call.function arguments: (arguments) @call.args) @call
(macro_invocation macro: (_) @macro)

(function_item name: (identifier) @skip)
(function_signature_item name: (identifier) @skip)
(parameter pattern: (identifier) @skip)
(let_declaration pattern: (identifier) @skip)
(closure_parameters (identifier) @skip)
(use_declaration argument: (_) @import.use)
(extern_crate_declaration name: (identifier) @import.module alias: (identifier) @import.alias)
(extern_crate_declaration name: (identifier) @import.module !alias)

(unsafe_block) @use.ffi.unsafe_block
(function_modifiers "unsafe") @use.ffi.unsafe_fn
(impl_item "unsafe") @use.ffi.unsafe_impl
(trait_item "unsafe") @use.ffi.unsafe_trait
(foreign_mod_item) @use.ffi.extern_block
(foreign_mod_item body: (declaration_list (function_signature_item name: (identifier) @use.ffi.extern_fn)))
(function_modifiers (extern_modifier)) @use.ffi.extern_abi_fn
(attribute_item (attribute (identifier) @use.ffi.link_attribute (#any-of? @use.ffi.link_attribute "link" "no_mangle" "export_name" "link_section")))
