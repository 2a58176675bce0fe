/*
 * png_colours FILE: prints "<width> <height> <distinct colours> <non-white
 * per mille>" of a PNG (libpng), so a test can tell a drawn page from a
 * blank one.  Build: cc png_colours.c $(pkg-config --cflags --libs libpng).
 */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS (1u << 20)

int main(int argc, char **argv)
{
	png_image img;
	png_bytep px;
	unsigned *seen;
	size_t n, distinct = 0, ink = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: png_colours FILE\n");
		return 2;
	}
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&img, argv[1])) {
		fprintf(stderr, "png_colours: %s: %s\n", argv[1], img.message);
		return 1;
	}
	img.format = PNG_FORMAT_RGB;
	n = (size_t)img.width * img.height;
	px = malloc(PNG_IMAGE_SIZE(img));
	seen = calloc(SLOTS, sizeof(*seen));
	if (!px || !seen || !png_image_finish_read(&img, NULL, px, 0, NULL)) {
		fprintf(stderr, "png_colours: %s: cannot decode\n", argv[1]);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned rgb = px[3 * i] << 16 | px[3 * i + 1] << 8 | px[3 * i + 2];
		unsigned h = (rgb * 2654435761u) >> 12, k;

		ink += rgb != 0xffffff;
		if (distinct >= SLOTS / 2)
			continue;
		/* open addressing on rgb + 1 (0 marks a free slot) */
		for (k = 0; seen[(h + k) % SLOTS] && seen[(h + k) % SLOTS] != rgb + 1; k++)
			;
		if (!seen[(h + k) % SLOTS]) {
			seen[(h + k) % SLOTS] = rgb + 1;
			distinct++;
		}
	}
	printf("%u %u %zu %zu\n", img.width, img.height, distinct, n ? 1000 * ink / n : 0);
	free(px);
	free(seen);
	return 0;
}
