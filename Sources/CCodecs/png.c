// libpng decode and encode with setjmp/longjmp error recovery.
#include "ccodecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <png.h>

#define FC_PNG_CHUNK_MAX (16L << 20)   // largest ancillary chunk libpng may allocate
#define FC_PNG_CHUNK_CACHE 1000        // most ancillary chunks kept

typedef struct {
    const uint8_t *data;
    size_t size, offset;
} fc_source;

struct fc_png_decoder {
    png_structp png;
    png_infop info;
    fc_source source;
    fc_status *status;
    int pixels_done;
};

static void fc_set(fc_status *status, fc_code code, const char *message) {
    if (!status) return;
    status->code = code;
    snprintf(status->message, FC_MESSAGE_MAX, "%s", message);
}

static void fc_png_error(png_structp png, png_const_charp message) {
    fc_png_decoder *dec = png_get_error_ptr(png);
    fc_code code = FC_ERR_CORRUPT;
    if (strstr(message, "Read Error") || strstr(message, "Not enough image data")) code = FC_ERR_TRUNCATED;
    if (strstr(message, "out of memory") || strstr(message, "Out of memory")) code = FC_ERR_MEMORY;
    if (dec && dec->status && dec->status->code == FC_OK) fc_set(dec->status, code, message);
    png_longjmp(png, 1);
}

static void fc_png_warning(png_structp png, png_const_charp message) {
    fc_png_decoder *dec = png_get_error_ptr(png);
    if (dec && dec->status) {
        dec->status->warnings += 1;
        snprintf(dec->status->message, FC_MESSAGE_MAX, "%s", message);
    }
}

static void fc_png_read_data(png_structp png, png_bytep out, png_size_t length) {
    fc_source *src = png_get_io_ptr(png);
    if (length > src->size - src->offset) png_error(png, "Read Error: the PNG data ends early");
    memcpy(out, src->data + src->offset, length);
    src->offset += length;
}

fc_png_decoder *fc_png_open(const uint8_t *data, size_t size, fc_png_info *info, fc_status *status) {
    memset(status, 0, sizeof *status);
    if (!data || size < 8 || !info) { fc_set(status, FC_ERR_TRUNCATED, "too short to be a PNG"); return NULL; }
    if (png_sig_cmp(data, 0, 8)) { fc_set(status, FC_ERR_CORRUPT, "not a PNG signature"); return NULL; }
    fc_png_decoder *dec = calloc(1, sizeof *dec);
    if (!dec) { fc_set(status, FC_ERR_MEMORY, "out of memory"); return NULL; }
    dec->status = status;
    dec->source = (fc_source){ data, size, 0 };
    dec->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, dec, fc_png_error, fc_png_warning);
    if (!dec->png) { free(dec); fc_set(status, FC_ERR_MEMORY, "out of memory"); return NULL; }
    dec->info = png_create_info_struct(dec->png);
    if (!dec->info) { fc_png_close(dec); fc_set(status, FC_ERR_MEMORY, "out of memory"); return NULL; }
    if (setjmp(png_jmpbuf(dec->png))) {
        fc_png_close(dec);
        return NULL;
    }
    png_set_read_fn(dec->png, &dec->source, fc_png_read_data);
    png_set_chunk_malloc_max(dec->png, FC_PNG_CHUNK_MAX);
    png_set_chunk_cache_max(dec->png, FC_PNG_CHUNK_CACHE);
    png_set_user_limits(dec->png, 1u << 24, 1u << 24);
    png_read_info(dec->png, dec->info);

    memset(info, 0, sizeof *info);
    info->width = png_get_image_width(dec->png, dec->info);
    info->height = png_get_image_height(dec->png, dec->info);
    info->bit_depth = png_get_bit_depth(dec->png, dec->info);
    info->color_type = png_get_color_type(dec->png, dec->info);
    info->interlaced = png_get_interlace_type(dec->png, dec->info) != PNG_INTERLACE_NONE;
    info->has_transparency = (info->color_type & PNG_COLOR_MASK_ALPHA) != 0 ||
                             png_get_valid(dec->png, dec->info, PNG_INFO_tRNS) != 0;
    return dec;
}

int fc_png_read(fc_png_decoder *dec, uint8_t *out, size_t out_size, fc_status *status) {
    memset(status, 0, sizeof *status);
    if (!dec || dec->pixels_done) { fc_set(status, FC_ERR_USAGE, "decoder not open or already read"); return FC_ERR_USAGE; }
    dec->status = status;
    png_structp png = dec->png;
    png_infop info = dec->info;
    uint32_t width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    size_t stride = (size_t)width * 3;
    if (out_size < stride * height) { fc_set(status, FC_ERR_USAGE, "output buffer too small"); return FC_ERR_USAGE; }
    png_bytep *volatile rows = malloc(sizeof(png_bytep) * height);
    if (!rows) { fc_set(status, FC_ERR_MEMORY, "out of memory"); return FC_ERR_MEMORY; }
    for (uint32_t y = 0; y < height; y++) rows[y] = out + (size_t)y * stride;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        if (dec->pixels_done) {
            // Every pixel arrived; only the chunks after the image data are damaged.
            status->code = FC_OK;
            status->warnings += 1;
            return FC_OK;
        }
        return status->code;
    }
    int color = png_get_color_type(png, info);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) {
        png_set_expand_gray_1_2_4_to_8(png);
        png_set_gray_to_rgb(png);
    }
    png_set_scale_16(png);
    png_set_strip_alpha(png);  // alpha (and tRNS, which is not expanded) is dropped, as Pillow's convert("RGB")
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != stride) {
        fc_set(status, FC_ERR_UNSUPPORTED, "PNG layout could not be converted to 8-bit RGB");
        free(rows);
        return FC_ERR_UNSUPPORTED;
    }
    png_read_image(png, rows);
    dec->pixels_done = 1;
    png_read_end(png, info);
    free(rows);
    return FC_OK;
}

const uint8_t *fc_png_exif(fc_png_decoder *dec, size_t *size) {
    *size = 0;
    if (!dec) return NULL;
#ifdef PNG_eXIf_SUPPORTED
    png_bytep exif = NULL;
    png_uint_32 n = 0;
    if (png_get_eXIf_1(dec->png, dec->info, &n, &exif) && exif && n > 0) {
        *size = n;
        return exif;
    }
#endif
    return NULL;
}

void fc_png_close(fc_png_decoder *dec) {
    if (!dec) return;
    if (dec->png) png_destroy_read_struct(&dec->png, dec->info ? &dec->info : NULL, NULL);
    free(dec);
}

// ---------------------------------------------------------------- encode

typedef struct {
    uint8_t *data;
    size_t size, capacity;
    int failed;
} fc_sink;

static void fc_png_write_data(png_structp png, png_bytep data, png_size_t length) {
    fc_sink *sink = png_get_io_ptr(png);
    if (sink->size + length > sink->capacity) {
        size_t capacity = sink->capacity ? sink->capacity : 65536;
        while (capacity < sink->size + length) capacity *= 2;
        uint8_t *grown = realloc(sink->data, capacity);
        if (!grown) { sink->failed = 1; png_error(png, "out of memory"); }
        sink->data = grown;
        sink->capacity = capacity;
    }
    memcpy(sink->data + sink->size, data, length);
    sink->size += length;
}

static void fc_png_flush(png_structp png) { (void)png; }

static void fc_png_encode_error(png_structp png, png_const_charp message) {
    fc_status *status = png_get_error_ptr(png);
    fc_set(status, FC_ERR_CORRUPT, message);
    png_longjmp(png, 1);
}

static void fc_png_encode_warning(png_structp png, png_const_charp message) {
    (void)message;
    fc_status *status = png_get_error_ptr(png);
    status->warnings += 1;
}

int fc_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels,
                  int compression_level, uint8_t **out, size_t *out_size, fc_status *status) {
    memset(status, 0, sizeof *status);
    *out = NULL;
    *out_size = 0;
    if (!pixels || width == 0 || height == 0 || (channels != 1 && channels != 3)) {
        fc_set(status, FC_ERR_USAGE, "bad arguments to the PNG encoder");
        return FC_ERR_USAGE;
    }
    fc_sink sink = { NULL, 0, 0, 0 };
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, status, fc_png_encode_error, fc_png_encode_warning);
    if (!png) { fc_set(status, FC_ERR_MEMORY, "out of memory"); return FC_ERR_MEMORY; }
    png_infop info = png_create_info_struct(png);
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, info ? &info : NULL);
        free(sink.data);
        if (status->code == FC_OK) fc_set(status, FC_ERR_MEMORY, "out of memory");
        return status->code;
    }
    png_set_write_fn(png, &sink, fc_png_write_data, fc_png_flush);
    png_set_compression_level(png, compression_level < 0 ? 6 : (compression_level > 9 ? 9 : compression_level));
    png_set_IHDR(png, info, width, height, 8, channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t stride = (size_t)width * (size_t)channels;
    for (uint32_t y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(pixels + (size_t)y * stride));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    *out = sink.data;
    *out_size = sink.size;
    return FC_OK;
}
