/* results/reference.json, embedded so the binary carries its sources. */
	.section .rodata
	.global reference_json
	.type reference_json, @object
reference_json:
	.incbin "results/reference.json"
	.byte 0
	.size reference_json, . - reference_json
	.section .note.GNU-stack,"",@progbits
