// CCodecs: the only place that calls libjpeg and libpng, because both report errors
// with longjmp, which Swift cannot catch. Every function returns a code and fills a
// message buffer; nothing here prints, exits or aborts.
#ifndef CCODECS_H
#define CCODECS_H

#include <stddef.h>
#include <stdint.h>

#define FC_MESSAGE_MAX 200

typedef enum {
    FC_OK = 0,
    FC_ERR_CORRUPT = 1,      // the codec rejected the data
    FC_ERR_TRUNCATED = 2,    // the data ended before the image did
    FC_ERR_UNSUPPORTED = 3,  // valid, but a variant we do not decode
    FC_ERR_TOO_LARGE = 4,    // over the caller's pixel limit (checked before allocating)
    FC_ERR_MEMORY = 5,       // an allocation failed
    FC_ERR_USAGE = 6         // called out of order or with bad arguments
} fc_code;

typedef struct {
    fc_code code;
    int warnings;                 // recoverable problems the codec reported
    char message[FC_MESSAGE_MAX]; // the first error, or the last warning when code == FC_OK
} fc_status;

// ---------------------------------------------------------------- JPEG decode

typedef struct fc_jpeg_decoder fc_jpeg_decoder;

typedef struct {
    uint32_t width, height;   // as stored, before any scaling
    int components;           // 1, 3 or 4
    int color_space;          // 1 gray, 2 RGB, 3 YCbCr, 4 CMYK, 5 YCCK, 0 unknown
    int progressive;
    const uint8_t *exif;      // APP1 "Exif\0\0" payload, or NULL; valid until fc_jpeg_close
    size_t exif_size;
} fc_jpeg_info;

// Opens a decoder over `data` (which must outlive it) and reads the header.
fc_jpeg_decoder *fc_jpeg_open(const uint8_t *data, size_t size, fc_jpeg_info *info, fc_status *status);
// Chooses the DCT scale (num/8, num in 1...16) and reports the output size; no pixels yet.
int fc_jpeg_start(fc_jpeg_decoder *dec, int scale_num, uint32_t *out_width, uint32_t *out_height,
                  int *out_channels, fc_status *status);
// Decodes into `out` ((H, W, C) interleaved, C = 1 for gray, else 3; CMYK becomes RGB).
int fc_jpeg_read(fc_jpeg_decoder *dec, uint8_t *out, size_t out_size, fc_status *status);
void fc_jpeg_close(fc_jpeg_decoder *dec);

// ---------------------------------------------------------------- PNG decode

typedef struct fc_png_decoder fc_png_decoder;

typedef struct {
    uint32_t width, height;
    int bit_depth;            // 1, 2, 4, 8 or 16
    int color_type;           // PNG colour type: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA
    int interlaced;
    int has_transparency;     // alpha channel or tRNS chunk
} fc_png_info;

fc_png_decoder *fc_png_open(const uint8_t *data, size_t size, fc_png_info *info, fc_status *status);
// Decodes to 8-bit (H, W, 3) RGB (gray is expanded, alpha dropped, 16-bit scaled).
int fc_png_read(fc_png_decoder *dec, uint8_t *out, size_t out_size, fc_status *status);
// The eXIf chunk (raw TIFF, no "Exif\0\0" header) seen so far, or NULL; valid until fc_png_close.
const uint8_t *fc_png_exif(fc_png_decoder *dec, size_t *size);
void fc_png_close(fc_png_decoder *dec);

// ---------------------------------------------------------------- encode

// Encodes (H, W, C) pixels, C = 1 or 3. `app1` (may be NULL) is written as an APP1 marker
// right after SOI; it must start with "Exif\0\0". The result is malloc'd: free with fc_free.
int fc_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int quality,
                   const uint8_t *app1, size_t app1_size, uint8_t **out, size_t *out_size,
                   fc_status *status);
int fc_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels,
                  int compression_level, uint8_t **out, size_t *out_size, fc_status *status);
void fc_free(void *p);

#endif
