#include "core/ktest.h"
