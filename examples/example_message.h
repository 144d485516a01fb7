/* SPDX-License-Identifier: MPL-2.0 */
/* example_message.h - what producer.c leaves in the region for consumer.c. */
#ifndef EXAMPLE_MESSAGE_H
#define EXAMPLE_MESSAGE_H

#include <stdint.h>

#define EXAMPLE_REGION_SIZE 4096u
#define EXAMPLE_MAGIC 0x47534d45u /* "EMSG" */

/* The whole region. */
typedef struct example_message {
    uint32_t magic;  /* written last: the message is complete */
    uint32_t length; /* bytes of text; the reader checks it */
    char text[EXAMPLE_REGION_SIZE - 8];
} example_message;

#endif
