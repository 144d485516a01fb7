/* SPDX-License-Identifier: MPL-2.0 */
/* section_win.h - what the Windows backend's own tests may ask of
 * section_win.c beyond platform.h. */
#ifndef SHMB_SECTION_WIN_H
#define SHMB_SECTION_WIN_H

#include <stddef.h>

#include "platform.h"

/* How many grantee processes the section remembers now. */
size_t win_section_grantees(const plat_section *section);

#endif
