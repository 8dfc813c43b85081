/* insights, module-private: JSON output helpers (output.c). */
#ifndef CV_INSIGHTS_OUTPUT_INT_H
#define CV_INSIGHTS_OUTPUT_INT_H

#include "base/base.h"

/** Appends @p x with exactly @p digits decimals (at most 6), no exponent. */
CV_WUR cv_err ins_put_fixed(struct cv_buf *b, double x, unsigned digits);
/** Appends a quoted, escaped JSON string. */
CV_WUR cv_err ins_put_str(struct cv_buf *b, const char *s, size_t len);
/** Appends an unsigned decimal. */
CV_WUR cv_err ins_put_u64(struct cv_buf *b, uint64_t v);

#endif
