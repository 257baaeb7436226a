// facet's only C++ (see include/cface.h). dlib's exceptions stop here.
#include "cface.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>
#include <dlib/matrix.h>

struct cface_detector {
    dlib::frontal_face_detector detector;
};

struct cface_predictor {
    dlib::shape_predictor predictor;
};

namespace {

void fail(char *error, size_t size, const std::string &message) {
    if (!error || size == 0) return;
    size_t n = std::min(size - 1, message.size());
    std::memcpy(error, message.data(), n);
    error[n] = 0;
}

bool valid(const uint8_t *pixels, int width, int height, int channels, char *error, size_t size) {
    if (!pixels || width <= 0 || height <= 0 || (channels != 1 && channels != 3)) {
        fail(error, size, "no image, or one that is not gray or RGB");
        return false;
    }
    return true;
}

dlib::matrix<unsigned char> gray(const uint8_t *p, int w, int h) {
    dlib::matrix<unsigned char> m(h, w);
    std::memcpy(&m(0, 0), p, size_t(w) * size_t(h));
    return m;
}

dlib::matrix<dlib::rgb_pixel> rgb(const uint8_t *p, int w, int h) {
    dlib::matrix<dlib::rgb_pixel> m(h, w);
    for (long y = 0; y < h; ++y)
        for (long x = 0; x < w; ++x) {
            const uint8_t *q = p + (size_t(y) * size_t(w) + size_t(x)) * 3;
            m(y, x) = dlib::rgb_pixel(q[0], q[1], q[2]);
        }
    return m;
}

// As dlib's Python binding runs the detector with upsampling (tools/python/src/object_detection.cpp).
template <typename Image>
std::vector<dlib::rect_detection> detect(dlib::frontal_face_detector &d, Image &img, int upsample, double adjust) {
    std::vector<dlib::rect_detection> found;
    dlib::pyramid_down<2> pyr;
    if (upsample <= 0) {
        d(img, found, adjust);
        return found;
    }
    Image up;
    dlib::pyramid_up(img, up, pyr);
    for (int i = 1; i < upsample; ++i) dlib::pyramid_up(up, pyr);
    d(up, found, adjust);
    for (auto &f : found) f.rect = pyr.rect_down(f.rect, upsample);
    return found;
}

template <typename Image>
int place(const dlib::shape_predictor &sp, const Image &img, cface_box box, double *xy, int points) {
    dlib::rectangle r(long(std::floor(box.left + 0.5)), long(std::floor(box.top + 0.5)),
                      long(std::floor(box.right + 0.5)), long(std::floor(box.bottom + 0.5)));
    dlib::full_object_detection shape = sp(img, r);
    int n = std::min<int>(points, int(shape.num_parts()));
    for (int i = 0; i < n; ++i) {
        xy[2 * i] = double(shape.part(i).x());
        xy[2 * i + 1] = double(shape.part(i).y());
    }
    return n;
}

}  // namespace

extern "C" {

cface_detector *cface_detector_new(char *error, size_t error_size) {
    try {
        auto d = std::make_unique<cface_detector>();
        d->detector = dlib::get_frontal_face_detector();
        return d.release();
    } catch (const std::exception &e) {
        fail(error, error_size, std::string("dlib: ") + e.what());
    } catch (...) {
        fail(error, error_size, "dlib: unknown error making the face detector");
    }
    return nullptr;
}

void cface_detector_free(cface_detector *detector) { delete detector; }

int cface_detect(cface_detector *detector, const uint8_t *pixels, int width, int height, int channels,
                 int upsample, double adjust_threshold, cface_box *boxes, int capacity,
                 char *error, size_t error_size) {
    if (!detector) {
        fail(error, error_size, "no detector");
        return -1;
    }
    if (!valid(pixels, width, height, channels, error, error_size)) return -1;
    if (upsample < 0 || upsample > 4) {
        fail(error, error_size, "upsample must be 0 to 4");
        return -1;
    }
    try {
        std::vector<dlib::rect_detection> found;
        if (channels == 1) {
            auto img = gray(pixels, width, height);
            found = detect(detector->detector, img, upsample, adjust_threshold);
        } else {
            auto img = rgb(pixels, width, height);
            found = detect(detector->detector, img, upsample, adjust_threshold);
        }
        std::stable_sort(found.begin(), found.end(),
                         [](const dlib::rect_detection &a, const dlib::rect_detection &b) { return a.detection_confidence > b.detection_confidence; });
        int n = int(found.size());
        for (int i = 0; i < std::min(n, capacity); ++i) {
            const auto &r = found[size_t(i)].rect;
            boxes[i] = cface_box{double(r.left()), double(r.top()), double(r.right()), double(r.bottom()),
                                 found[size_t(i)].detection_confidence};
        }
        return n;
    } catch (const std::exception &e) {
        fail(error, error_size, std::string("dlib: ") + e.what());
    } catch (...) {
        fail(error, error_size, "dlib: unknown error in face detection");
    }
    return -1;
}

cface_predictor *cface_predictor_load(const char *path, char *error, size_t error_size) {
    try {
        auto p = std::make_unique<cface_predictor>();
        dlib::deserialize(path) >> p->predictor;
        if (p->predictor.num_parts() == 0) {
            fail(error, error_size, std::string(path) + ": a shape predictor with no points");
            return nullptr;
        }
        return p.release();
    } catch (const std::exception &e) {
        fail(error, error_size, std::string(path) + ": not a dlib shape predictor (" + e.what() + ")");
    } catch (...) {
        fail(error, error_size, std::string(path) + ": not a dlib shape predictor");
    }
    return nullptr;
}

void cface_predictor_free(cface_predictor *predictor) { delete predictor; }

int cface_predictor_points(const cface_predictor *predictor) {
    return predictor ? int(predictor->predictor.num_parts()) : 0;
}

int cface_predict(const cface_predictor *predictor, const uint8_t *pixels, int width, int height, int channels,
                  cface_box box, double *xy, int points, char *error, size_t error_size) {
    if (!predictor || !xy) {
        fail(error, error_size, "no predictor or no output");
        return -1;
    }
    if (!valid(pixels, width, height, channels, error, error_size)) return -1;
    try {
        if (channels == 1) return place(predictor->predictor, gray(pixels, width, height), box, xy, points);
        return place(predictor->predictor, rgb(pixels, width, height), box, xy, points);
    } catch (const std::exception &e) {
        fail(error, error_size, std::string("dlib: ") + e.what());
    } catch (...) {
        fail(error, error_size, "dlib: unknown error placing landmarks");
    }
    return -1;
}

}  // extern "C"
