/*
 * Caravel: customer feedback to insights, delivered into S3.
 *
 * This is the public umbrella header. Everything outside include/caravel/ is
 * internal to the project.
 */
#ifndef CARAVEL_CARAVEL_H
#define CARAVEL_CARAVEL_H

#define CV_VERSION_MAJOR 0
#define CV_VERSION_MINOR 1
#define CV_VERSION_PATCH 0
#define CV_VERSION "0.1.0"

#include "caravel/err.h"

#endif
