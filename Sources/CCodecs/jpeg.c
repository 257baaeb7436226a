// libjpeg(-turbo) decode and encode with setjmp/longjmp error recovery, after the pattern of
// torchvision's jpegcommon.h: an error manager that records the message and jumps back.
#include "ccodecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

#define FC_MAX_SCANS 1000              // progressive files with more scans are hostile
#define FC_MAX_MEMORY (1L << 30)       // libjpeg's own working memory cap (1 GiB)

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    fc_status *status;                  // where the current call reports
    int eof;                            // libjpeg warned that the data ended early
} fc_jpeg_error;

struct fc_jpeg_decoder {
    struct jpeg_decompress_struct cinfo;
    fc_jpeg_error err;
    struct jpeg_progress_mgr progress;
    int started;
};

static void fc_set(fc_status *status, fc_code code, const char *message) {
    if (!status) return;
    status->code = code;
    snprintf(status->message, FC_MESSAGE_MAX, "%s", message);
}

static void fc_jpeg_error_exit(j_common_ptr cinfo) {
    fc_jpeg_error *err = (fc_jpeg_error *)cinfo->err;
    char buffer[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, buffer);
    fc_code code = FC_ERR_CORRUPT;
    switch (cinfo->err->msg_code) {
    case JERR_OUT_OF_MEMORY: code = FC_ERR_MEMORY; break;
    case JERR_INPUT_EMPTY: case JERR_INPUT_EOF: code = FC_ERR_TRUNCATED; break;
    case JERR_CONVERSION_NOTIMPL: case JERR_NOT_COMPILED: case JERR_BAD_PRECISION:
    case JERR_ARITH_NOTIMPL: case JERR_SOF_UNSUPPORTED: code = FC_ERR_UNSUPPORTED; break;
    case JERR_IMAGE_TOO_BIG: code = FC_ERR_TOO_LARGE; break;
    default: break;
    }
    fc_set(err->status, code, buffer);
    longjmp(err->jump, 1);
}

static void fc_jpeg_emit_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;  // trace messages
    fc_jpeg_error *err = (fc_jpeg_error *)cinfo->err;
    int code = cinfo->err->msg_code;
    if (code == JWRN_JPEG_EOF) err->eof = 1;
    // Bytes between markers are common in camera files and harmless to the pixels.
    if (code == JWRN_EXTRANEOUS_DATA) return;
    if (err->status) {
        err->status->warnings += 1;
        (*cinfo->err->format_message)(cinfo, err->status->message);
    }
}

static void fc_jpeg_progress(j_common_ptr cinfo) {
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (cinfo->is_decompressor && d->input_scan_number > FC_MAX_SCANS) {
        fc_jpeg_error *err = (fc_jpeg_error *)cinfo->err;
        fc_set(err->status, FC_ERR_CORRUPT, "too many progressive scans (over 1000)");
        longjmp(err->jump, 1);
    }
}

fc_jpeg_decoder *fc_jpeg_open(const uint8_t *data, size_t size, fc_jpeg_info *info, fc_status *status) {
    memset(status, 0, sizeof *status);
    if (!data || size == 0 || !info) { fc_set(status, FC_ERR_USAGE, "no data"); return NULL; }
    fc_jpeg_decoder *dec = calloc(1, sizeof *dec);
    if (!dec) { fc_set(status, FC_ERR_MEMORY, "out of memory"); return NULL; }
    dec->cinfo.err = jpeg_std_error(&dec->err.pub);
    dec->err.pub.error_exit = fc_jpeg_error_exit;
    dec->err.pub.emit_message = fc_jpeg_emit_message;
    dec->err.status = status;
    if (setjmp(dec->err.jump)) {
        jpeg_destroy_decompress(&dec->cinfo);
        free(dec);
        return NULL;
    }
    jpeg_create_decompress(&dec->cinfo);
    dec->cinfo.mem->max_memory_to_use = FC_MAX_MEMORY;
    dec->progress.progress_monitor = fc_jpeg_progress;
    dec->cinfo.progress = &dec->progress;
    jpeg_save_markers(&dec->cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_mem_src(&dec->cinfo, data, (unsigned long)size);
    jpeg_read_header(&dec->cinfo, TRUE);

    memset(info, 0, sizeof *info);
    info->width = dec->cinfo.image_width;
    info->height = dec->cinfo.image_height;
    info->components = dec->cinfo.num_components;
    info->progressive = dec->cinfo.progressive_mode ? 1 : 0;
    switch (dec->cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: info->color_space = 1; break;
    case JCS_RGB: info->color_space = 2; break;
    case JCS_YCbCr: info->color_space = 3; break;
    case JCS_CMYK: info->color_space = 4; break;
    case JCS_YCCK: info->color_space = 5; break;
    default: info->color_space = 0; break;
    }
    for (jpeg_saved_marker_ptr m = dec->cinfo.marker_list; m; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && memcmp(m->data, "Exif\0\0", 6) == 0) {
            info->exif = m->data;
            info->exif_size = m->data_length;
            break;
        }
    }
    return dec;
}

int fc_jpeg_start(fc_jpeg_decoder *dec, int scale_num, uint32_t *out_width, uint32_t *out_height,
                  int *out_channels, fc_status *status) {
    memset(status, 0, sizeof *status);
    if (!dec || dec->started) { fc_set(status, FC_ERR_USAGE, "decoder not open or already started"); return FC_ERR_USAGE; }
    dec->err.status = status;
    if (setjmp(dec->err.jump)) return status->code;
    j_decompress_ptr c = &dec->cinfo;
    if (c->jpeg_color_space == JCS_CMYK || c->jpeg_color_space == JCS_YCCK) {
        c->out_color_space = JCS_CMYK;
    } else if (c->num_components == 1 || c->num_components == 3) {
        c->out_color_space = JCS_RGB;   // libjpeg-turbo expands gray to RGB itself
    } else {
        fc_set(status, FC_ERR_UNSUPPORTED, "JPEG with an unsupported number of colour components");
        return FC_ERR_UNSUPPORTED;
    }
    c->scale_num = (unsigned int)(scale_num < 1 ? 8 : (scale_num > 16 ? 16 : scale_num));
    c->scale_denom = 8;
    c->dct_method = JDCT_ISLOW;
    jpeg_start_decompress(c);
    dec->started = 1;
    *out_width = c->output_width;
    *out_height = c->output_height;
    *out_channels = 3;
    return FC_OK;
}

int fc_jpeg_read(fc_jpeg_decoder *dec, uint8_t *out, size_t out_size, fc_status *status) {
    memset(status, 0, sizeof *status);
    if (!dec || !dec->started) { fc_set(status, FC_ERR_USAGE, "decoder not started"); return FC_ERR_USAGE; }
    j_decompress_ptr c = &dec->cinfo;
    size_t width = c->output_width, comps = (size_t)c->output_components;
    if (out_size < width * c->output_height * 3) { fc_set(status, FC_ERR_USAGE, "output buffer too small"); return FC_ERR_USAGE; }
    dec->err.status = status;
    dec->err.eof = 0;
    uint8_t *volatile row = NULL;
    if (comps == 4) {
        row = malloc(width * 4);
        if (!row) { fc_set(status, FC_ERR_MEMORY, "out of memory"); return FC_ERR_MEMORY; }
    }
    if (setjmp(dec->err.jump)) { free(row); return status->code; }
    int inverted = c->saw_Adobe_marker;  // Adobe writes CMYK inverted
    while (c->output_scanline < c->output_height) {
        uint8_t *dst = out + (size_t)c->output_scanline * width * 3;
        if (comps == 3) {
            JSAMPROW rows[1] = { dst };
            jpeg_read_scanlines(c, rows, 1);
        } else {
            JSAMPROW rows[1] = { row };
            jpeg_read_scanlines(c, rows, 1);
            for (size_t x = 0; x < width; x++) {
                unsigned cc = row[4 * x], m = row[4 * x + 1], y = row[4 * x + 2], k = row[4 * x + 3];
                if (!inverted) { cc = 255 - cc; m = 255 - m; y = 255 - y; k = 255 - k; }
                dst[3 * x] = (uint8_t)((cc * k + 127) / 255);
                dst[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
                dst[3 * x + 2] = (uint8_t)((y * k + 127) / 255);
            }
        }
        if (dec->err.eof) break;
    }
    free(row);
    row = NULL;
    if (dec->err.eof) {
        fc_set(status, FC_ERR_TRUNCATED, "the JPEG data ends before the image does");
        return FC_ERR_TRUNCATED;
    }
    jpeg_finish_decompress(c);
    if (dec->err.eof) {
        fc_set(status, FC_ERR_TRUNCATED, "the JPEG data ends before the image does");
        return FC_ERR_TRUNCATED;
    }
    return FC_OK;
}

void fc_jpeg_close(fc_jpeg_decoder *dec) {
    if (!dec) return;
    jpeg_destroy_decompress(&dec->cinfo);
    free(dec);
}

int fc_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int quality,
                   const uint8_t *app1, size_t app1_size, uint8_t **out, size_t *out_size,
                   fc_status *status) {
    memset(status, 0, sizeof *status);
    *out = NULL;
    *out_size = 0;
    if (!pixels || width == 0 || height == 0 || width > 65500 || height > 65500 ||
        (channels != 1 && channels != 3) || app1_size > 65533) {
        fc_set(status, FC_ERR_USAGE, "bad arguments to the JPEG encoder");
        return FC_ERR_USAGE;
    }
    struct jpeg_compress_struct cinfo;
    fc_jpeg_error err;
    memset(&err, 0, sizeof err);
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = fc_jpeg_error_exit;
    err.pub.emit_message = fc_jpeg_emit_message;
    err.status = status;
    // Written by libjpeg through their addresses, so they are in memory when longjmp returns.
    unsigned char *mem = NULL;
    unsigned long size = 0;
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(mem);
        return status->code;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &mem, &size);
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality < 1 ? 1 : (quality > 100 ? 100 : quality), TRUE);
    cinfo.dct_method = JDCT_ISLOW;
    jpeg_start_compress(&cinfo, TRUE);
    if (app1 && app1_size > 0) jpeg_write_marker(&cinfo, JPEG_APP0 + 1, app1, (unsigned int)app1_size);
    size_t stride = (size_t)width * (size_t)channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW rows[1] = { (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * stride) };
        jpeg_write_scanlines(&cinfo, rows, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = mem;
    *out_size = size;
    return FC_OK;
}

void fc_free(void *p) { free(p); }
