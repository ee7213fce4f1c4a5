/* QR rendering (see qr.h). */
#include "qr.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <qrencode.h>

enum { QUIET = 4 };

/* Module (x, y) of the code with its quiet zone: true when dark. */
static bool dark(const QRcode *q, int x, int y)
{
	x -= QUIET;
	y -= QUIET;
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return false;
	return q->data[y * q->width + x] & 1;
}

static void svg(const QRcode *q, struct arbor_buf *out)
{
	int size = q->width + 2 * QUIET;
	arbor_buf_printf(out,
			 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			 "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
			 "shape-rendering=\"crispEdges\">\n"
			 "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n<path fill=\"#000000\" d=\"",
			 size, size, size * 8, size * 8, size, size);
	for (int y = 0; y < size; y++) {
		for (int x = 0; x < size; x++) {
			if (!dark(q, x, y))
				continue;
			int run = 1;
			while (x + run < size && dark(q, x + run, y))
				run++;
			arbor_buf_printf(out, "M%d %dh%dv1h-%dz", x, y, run, run);
			x += run - 1;
		}
	}
	arbor_buf_puts(out, "\"/>\n</svg>\n");
}

static void utf8(const QRcode *q, struct arbor_buf *out)
{
	/* Upper half, lower half, both, neither: the light modules are drawn. */
	static const char *const cells[4] = { "\xe2\x96\x88", "\xe2\x96\x80", "\xe2\x96\x84", " " };
	int size = q->width + 2 * QUIET;
	for (int y = 0; y < size; y += 2) {
		for (int x = 0; x < size; x++) {
			bool top = dark(q, x, y), bottom = y + 1 < size ? dark(q, x, y + 1) : false;
			arbor_buf_puts(out, cells[(top ? 2 : 0) + (bottom ? 1 : 0)]);
		}
		arbor_buf_puts(out, "\n");
	}
}

int qr_render(const char *text, enum qr_format format, struct arbor_buf *out)
{
	QRcode *q = QRcode_encodeData((int)strlen(text), (const unsigned char *)text, 0, QR_ECLEVEL_M);
	if (q == NULL)
		return errno == ENOMEM ? -ENOMEM : -EINVAL;
	if (format == QR_SVG)
		svg(q, out);
	else
		utf8(q, out);
	QRcode_free(q);
	return 0;
}
