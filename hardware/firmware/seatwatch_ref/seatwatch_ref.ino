// seatwatch reference sensor firmware (Arduino core for ESP32-S3, arduino-esp32 >= 3.0).
//
// Measures on the device and sends only levels (hardware/PROTOCOL.md, version 1), never audio:
//   - ICS-43434 I2S MEMS microphone at 48 kHz -> 1 Hz DC blocker -> IEC 61672-1 A weighting (1 + 3 biquads,
//     coefficients from seatwatch/core/acoustics/weighting.py: `python -c "from seatwatch.core.acoustics.weighting import
//     measurement_sections; print(measurement_sections('A', 48000))"`) -> squared -> F time weighting
//     (tau 0.125 s) -> per second LAeq, LAFmax, LAFmin
//   - OPT3001 ambient light sensor (I2C, cosine-corrected, photopic) read once per second
//   - one "$SW1,L,..." frame per second with a sequence number and CRC-16/CCITT-FALSE.
// Build with RAW_MODE 1 to stream raw s16le PCM instead (bridge driver "audio"); no frames then.
//
// Wiring (hardware/README.md): I2S BCLK=GPIO4, WS=GPIO5, SD=GPIO6, L/R=GND (left channel);
// OPT3001 SDA=GPIO8, SCL=GPIO9, ADDR=GND (0x44).

#include <Arduino.h>
#include <ESP_I2S.h>
#include <Wire.h>
#include <math.h>

#ifndef RAW_MODE
#define RAW_MODE 0
#endif

static const char *DEVICE_ID = "ref-001";  // set per unit at flashing time (-DDEVICE_ID=...)
static const char *FIRMWARE = "1.0.0";
static const uint32_t FS = 48000;
static const uint32_t INTERVAL_MS = 1000;
static const float SENSITIVITY_DB = 123.0f;  // level of RMS = full scale; ICS-43434: -26 dBFS @ 94 dB (sine)
static const uint8_t OPT3001 = 0x44;

// DC blocker then A weighting at 48 kHz, as second-order sections {b0, b1, b2, a1, a2} (a0 = 1). The
// first row is the first-order 1 Hz high-pass: the ICS-43434 and the I2S path carry a DC offset whose
// step at power-up would ring through the A filter's 20.6 Hz poles; it starts settled on the first
// sample (see settle()). Regenerate from seatwatch/core/acoustics/weighting.py when FS changes; the host and
// the device must use the same design.
static const int SECTIONS = 4;
static const float A_SOS[SECTIONS][5] = {
    {9.999345544e-01f, -9.999345544e-01f, 0.000000000e+00f, -9.998691089e-01f, 0.000000000e+00f},
    {1.000000000e+00f, -2.000000000e+00f, 1.000000000e+00f, -1.994614456e+00f, 9.946217070e-01f},
    {1.000000000e+00f, -2.000000000e+00f, 1.000000000e+00f, -1.893870495e+00f, 8.951597691e-01f},
    {5.909125201e-01f, 2.343910480e-01f, -2.658690465e-05f, -3.059378156e-01f, -7.716250887e-05f},
};
static float z[SECTIONS][2];
static bool settled = false;

I2SClass i2s;
static uint32_t seq = 0;
static double energy = 0.0;  // sum of squared A-weighted samples in the interval
static float fast = 0.0f;    // F time-weighted mean square
static float fastMax = 0.0f, fastMin = INFINITY;
static uint32_t samples = 0, fastSamples = 0;
static const float FAST_A = expf(-1.0f / (0.125f * FS));

static uint16_t crc16(const char *data, size_t n) {  // CRC-16/CCITT-FALSE
  uint16_t crc = 0xFFFF;
  for (size_t i = 0; i < n; i++) {
    crc ^= (uint16_t)(uint8_t)data[i] << 8;
    for (int b = 0; b < 8; b++) crc = (crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1;
  }
  return crc;
}

static void sendFrame(const char *body) {
  char line[176];
  int n = snprintf(line, sizeof line, "$%s*%04X\r\n", body, crc16(body, strlen(body)));
  Serial.write((const uint8_t *)line, n);
}

static void settle(float x) {  // steady state of a constant input x: the DC blocker outputs 0
  z[0][0] = -A_SOS[0][0] * x;
  settled = true;
}

static float aWeight(float x) {
  if (!settled) settle(x);
  for (int s = 0; s < SECTIONS; s++) {  // transposed direct form II
    const float *c = A_SOS[s];
    float y = c[0] * x + z[s][0];
    z[s][0] = c[1] * x - c[3] * y + z[s][1];
    z[s][1] = c[2] * x - c[4] * y;
    x = y;
  }
  return x;
}

static float levelDb(double meanSquare) { return SENSITIVITY_DB + 10.0f * log10f((float)meanSquare + 1e-20f); }

static float readLux() {  // OPT3001 result register 0x00: 4-bit exponent, 12-bit mantissa, 0.01 lx LSB
  Wire.beginTransmission(OPT3001);
  Wire.write(0x00);
  if (Wire.endTransmission(false) != 0 || Wire.requestFrom(OPT3001, (uint8_t)2) != 2) return NAN;
  uint16_t raw = (Wire.read() << 8) | Wire.read();
  return 0.01f * (1 << (raw >> 12)) * (raw & 0x0FFF);
}

void setup() {
  Serial.begin(115200);
  Wire.begin(8, 9);
  Wire.beginTransmission(OPT3001);  // configuration: automatic full scale, 800 ms, continuous
  Wire.write(0x01);
  Wire.write(0xCE);
  Wire.write(0x10);
  Wire.endTransmission();
  i2s.setPins(4, 5, 6);
  i2s.begin(I2S_MODE_STD, FS, I2S_DATA_BIT_WIDTH_32BIT, I2S_SLOT_MODE_MONO, I2S_STD_SLOT_LEFT);
#if !RAW_MODE
  char body[96];
  snprintf(body, sizeof body, "SW1,H,%s,%s,levels", DEVICE_ID, FIRMWARE);
  sendFrame(body);
#endif
}

void loop() {
  int32_t block[256];
  size_t got = i2s.readBytes((char *)block, sizeof block) / sizeof(int32_t);
  for (size_t i = 0; i < got; i++) {
    float x = (float)(block[i] >> 8) / 8388608.0f;  // 24-bit left-justified sample -> full-scale units
#if RAW_MODE
    int16_t pcm = (int16_t)(block[i] >> 16);
    Serial.write((const uint8_t *)&pcm, 2);
    continue;
#endif
    float a = aWeight(x);
    float a2 = a * a;
    energy += a2;
    fast = FAST_A * fast + (1.0f - FAST_A) * a2;
    if (fast > fastMax) fastMax = fast;
    if (fastSamples < FS * 5 / 8) fastSamples++;  // F needs 5 tau to settle after reset (and never wraps)
    else if (fast < fastMin) fastMin = fast;
    if (++samples == FS * INTERVAL_MS / 1000) {
      char body[128], lux[16] = "";
      float lx = readLux();
      if (!isnan(lx)) snprintf(lux, sizeof lux, "%.1f", lx);
      float laeq = levelDb(energy / samples), lmax = levelDb(fastMax);
      float lmin = isinf(fastMin) ? laeq : levelDb(fastMin);
      snprintf(body, sizeof body, "SW1,L,%lu,%lu,%.1f,%.1f,%.1f,%s", (unsigned long)seq++,
               (unsigned long)INTERVAL_MS, laeq, lmax, lmin, lux);
      sendFrame(body);
      energy = 0.0;
      samples = 0;
      fastMax = 0.0f;
      fastMin = INFINITY;
    }
  }
}
