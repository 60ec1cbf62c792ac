; Definitions: @def.<kind> is the definition node, @name its name.
(function_declaration name: (identifier) @name) @def.function
(generator_function_declaration name: (identifier) @name) @def.function
(class_declaration name: (identifier) @name) @def.class
; Methods of classes only: an object literal's method alone is not valid code, and its type says it.
(class_body (method_definition name: (property_identifier) @name) @def.method)
(program (lexical_declaration (variable_declarator name: (identifier) @name)) @def.constant)
(program (export_statement declaration: (lexical_declaration (variable_declarator name: (identifier) @name)) @def.constant))

; Imports: @import.name is a name the file imports, @import.module where from.
(import_specifier name: (identifier) @import.name)
(import_clause (identifier) @import.name)
(namespace_import (identifier) @import.name)
(import_statement source: (string (string_fragment) @import.module))
