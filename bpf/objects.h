/* bench objects: where a program keeps a per-request object (shared with
 * user space; names in bench/objects.c in this order). */
#ifndef OLAB_BPF_OBJECTS_H
#define OLAB_BPF_OBJECTS_H

enum object_place {
	OBJ_STACK,          /* on the stack, filled */
	OBJ_STACK_ZEROED,   /* on the stack, zeroed, then filled */
	OBJ_MAP,            /* a per-CPU array scratch slot, filled */
	OBJ_MAP_ZEROED,     /* the slot zeroed, then filled */
	OBJ_NONE,           /* the same program without the object */
};

#define OBJ_STACK_MAX   496     /* bytes: 512 is the limit, the rest is the program's */
#define OBJ_MAP_MAX     32768   /* bytes: a per-CPU value's largest (PCPU_MIN_UNIT_SIZE) */
#define OBJ_BIG_MAX     65536   /* bytes: in an ARRAY, not per CPU */

#endif
