; Definitions: @def.<kind> is the definition node, @name its name.
(function_item name: (identifier) @name) @def.function
(struct_item name: (type_identifier) @name) @def.type
(enum_item name: (type_identifier) @name) @def.type
(trait_item name: (type_identifier) @name) @def.type
(type_item name: (type_identifier) @name) @def.type
(const_item name: (identifier) @name) @def.constant
(static_item name: (identifier) @name) @def.constant

; Imports: @import.name is a name the file imports.
(use_declaration argument: (scoped_identifier name: (identifier) @import.name))
(use_declaration argument: (identifier) @import.name)
(use_list (identifier) @import.name)
(use_list (scoped_identifier name: (identifier) @import.name))
