; Capability uses in C (C++ reads this file too, then cpp.scm). The capture names are those of
; python.scm; C has no imports that bind names: a header is a use, a function is its name.

(identifier) @ref
(call_expression function: (_) @call.function arguments: (argument_list) @call.args) @call
(preproc_include path: (_) @import.module) @import.bare

(function_declarator declarator: (identifier) @skip)
(init_declarator declarator: (identifier) @skip)
(parameter_declaration declarator: (identifier) @skip)
(pointer_declarator declarator: (identifier) @skip)
(array_declarator declarator: (identifier) @skip)
(declaration declarator: (identifier) @skip)

(gnu_asm_expression) @use.ffi.asm
