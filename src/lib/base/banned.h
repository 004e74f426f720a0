/* Functions that must not appear in yumna-dns: unbounded string writes,
 * silent number parsing and anything that starts a shell. Included by every
 * translation unit through the build (-include). */
#ifndef YUMNA_BANNED_H
#define YUMNA_BANNED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC poison sprintf vsprintf strcpy strcat atoi atol atoll system popen gets

#endif
