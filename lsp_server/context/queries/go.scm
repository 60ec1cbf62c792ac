; Definitions: @def.<kind> is the definition node, @name its name.
(function_declaration name: (identifier) @name) @def.function
(method_declaration name: (field_identifier) @name) @def.method
(type_spec name: (type_identifier) @name) @def.type
(type_alias name: (type_identifier) @name) @def.type
(source_file (const_declaration (const_spec name: (identifier) @name) @def.constant))
(source_file (var_declaration (var_spec name: (identifier) @name) @def.constant))

; The file's `package x` line, written at the top of its context file.
(package_clause) @preamble

; Imports: @import.module is an imported package path.
(import_spec path: (interpreted_string_literal) @import.module)
