#include <pacparser.h>
