/* Writes a YCCK JPEG (Adobe, transform 2) of a PPM, for FacetImageTests: Pillow cannot
 * write YCCK, libjpeg can. Adobe stores CMYK inverted, so the inverted ink of an RGB
 * pixel with no black is (R, G, B, 255).
 *
 *   gcc -O2 -o /tmp/make_ycck tools/make_ycck_jpeg.c -ljpeg
 *   /tmp/make_ycck Tests/Fixtures/jpeg-variants/source.ppm Tests/Fixtures/jpeg-variants/ycck.jpg
 */
#include <stdio.h>
#include <stdlib.h>
#include <jpeglib.h>

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s IN.ppm OUT.jpg\n", argv[0]); return 2; }
    FILE *in = fopen(argv[1], "rb");
    int w, h, maxval;
    if (!in || fscanf(in, "P6 %d %d %d", &w, &h, &maxval) != 3 || maxval != 255) { fprintf(stderr, "bad PPM\n"); return 1; }
    fgetc(in);
    unsigned char *rgb = malloc((size_t)w * h * 3), *row = malloc((size_t)w * 4);
    if (fread(rgb, 3, (size_t)w * h, in) != (size_t)w * h) { fprintf(stderr, "short PPM\n"); return 1; }
    fclose(in);
    FILE *out = fopen(argv[2], "wb");
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, out);
    c.image_width = w; c.image_height = h; c.input_components = 4; c.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&c);
    jpeg_set_colorspace(&c, JCS_YCCK);
    jpeg_set_quality(&c, 95, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        unsigned char *src = rgb + (size_t)c.next_scanline * w * 3;
        for (int x = 0; x < w; x++) { row[4*x] = src[3*x]; row[4*x+1] = src[3*x+1]; row[4*x+2] = src[3*x+2]; row[4*x+3] = 255; }
        JSAMPROW rows[1] = { row };
        jpeg_write_scanlines(&c, rows, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(out);
    return 0;
}
