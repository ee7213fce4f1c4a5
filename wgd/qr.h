/* A client config as a QR code (libqrencode, 8-bit mode, error correction M),
 * drawn as SVG or as UTF-8 half blocks for a terminal: two rows of modules per
 * line, a quiet zone of 4 modules (2 lines) around it. In the text form a
 * block is a light module, so the code reads as dark on light on the usual
 * light-on-dark terminal. */
#pragma once
#include "buf.h"

enum qr_format { QR_SVG, QR_UTF8 };

/* 0, -EINVAL for text that does not fit a QR code (about 2.3 KB at level M),
 * -ENOMEM. */
int qr_render(const char *text, enum qr_format format, struct arbor_buf *out);
