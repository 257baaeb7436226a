// facet's only C++: dlib's HOG frontal-face detector and its shape predictor, behind a C ABI.
// Every entry point catches dlib's exceptions and returns an error code with a message; none
// throws, none aborts. Pixels are rows of `width * channels` bytes, `channels` 1 (gray) or 3 (RGB).
#ifndef CFACE_H
#define CFACE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A face box in the pixel coordinates of the image searched, and the detector's score
/// (larger: more face-like; dlib reports a face at a score above 0 minus the threshold adjustment).
typedef struct {
    double left, top, right, bottom;
    double score;
} cface_box;

typedef struct cface_detector cface_detector;
typedef struct cface_predictor cface_predictor;

/// dlib's frontal-face detector (its model is compiled into dlib). One per thread: dlib does not
/// allow concurrent use of one detector. NULL with `error` filled on failure.
cface_detector *cface_detector_new(char *error, size_t error_size);
void cface_detector_free(cface_detector *detector);

/// Finds faces: the image is upsampled `upsample` times (each 2×, as dlib's Python binding does),
/// searched with `adjust_threshold` added to the detector's threshold (negative finds more), and
/// the boxes brought back to the image's own coordinates. Writes up to `capacity` boxes, best
/// score first; returns how many were found (which may exceed `capacity`), or -1 with `error`.
int cface_detect(cface_detector *detector, const uint8_t *pixels, int width, int height, int channels,
                 int upsample, double adjust_threshold, cface_box *boxes, int capacity,
                 char *error, size_t error_size);

/// A shape predictor read from a dlib `.dat` file (e.g. the 68-point landmark model). NULL with
/// `error` filled when the file is missing or not a shape predictor. Safe to share between threads.
cface_predictor *cface_predictor_load(const char *path, char *error, size_t error_size);
void cface_predictor_free(cface_predictor *predictor);
/// The number of points the predictor places.
int cface_predictor_points(const cface_predictor *predictor);

/// Places the predictor's points in `box` of the image: `xy` receives x0, y0, x1, y1, … for
/// `points` points (at most the predictor's). Returns the number written, or -1 with `error`.
int cface_predict(const cface_predictor *predictor, const uint8_t *pixels, int width, int height, int channels,
                  cface_box box, double *xy, int points, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
